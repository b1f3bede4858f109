"""The quick log: a touchpoint in a few keystrokes, also answering a follow-up."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from accounts.mixins import OrgViewMixin
from accounts.models import Organization
from accounts.requests import OrgRequest, safe_next
from accounts.tenancy import access_by_id
from engagements import answers, followups, selectors, services
from engagements.web.forms import (
    QuickLogForm,
)
from engagements.web.views.base import (
    EDIT,
    _form_errors_into,
)
from followup.engine import bulk
from followup.engine.models import BulkChange, FollowUp
from followup.engine.services import followup_path
from followup.kernel import idempotent_forms

UNDO_MINUTES = bulk.UNDO_WINDOW.seconds // 60


def answered_text(answer: answers.Answered) -> str:
    """What answering did, in the reader's language and time zone."""
    values = {
        "channel": answer.touchpoint.get_channel_display(),
        "customer": answer.touchpoint.customer.name,
        "title": answer.followup.title,
    }
    if answer.next is not None:
        values["due"] = date_format(
            timezone.localtime(answer.next.due_at), "WEEKDAY_DATETIME_FORMAT"
        )
        return (
            _(
                "Logged: %(channel)s with %(customer)s. The follow-up “%(title)s” is done; "
                "the next one is due %(due)s."
            )
            % values
        )
    return _("Logged: %(channel)s with %(customer)s. The follow-up “%(title)s” is done.") % values


def undo_message(request: OrgRequest, answer: answers.Answered, back: str) -> str:
    """The message after answering without JavaScript: what happened, and an Undo button."""
    action = reverse(
        "engagements:answer_undo", kwargs={"org_slug": request.org.slug, "pk": answer.change.pk}
    )
    message: str = format_html(
        '{} <form method="post" action="{}" class="inline-form undo-form">'
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
        '<input type="hidden" name="next" value="{}">'
        '<button type="submit" class="small">{}</button></form>',
        answered_text(answer),
        action,
        get_token(request),
        back,
        _("Undo (%(minutes)d min)") % {"minutes": UNDO_MINUTES},
    )
    return message


def _answering(org: Organization, followup_id: str) -> dict[str, Any]:
    """Initial quick-log values for answering a follow-up of this organization."""
    try:
        followup = access_by_id(FollowUp.objects, org, followup_id)
    except Http404:
        return {}  # unknown, malformed or foreign: a plain quick log
    customer, engagement = followups.subject_of(org, followup)
    values: dict[str, Any] = {"followup": followup.pk}
    if customer is not None:
        values["customer"] = customer.pk
    if engagement is not None:
        values["engagement"] = engagement.pk
    return values


class QuickLogView(OrgViewMixin, TemplateView):
    """Log a touchpoint in a few keystrokes: from the header, a customer or an engagement.

    With htmx the form swaps itself (errors inline, or a fresh form after saving) and the
    new entry is added to the page's timeline out of band; without JavaScript it is a
    plain form that redirects back.
    """

    template_name = "engagements/quick_log.html"
    capabilities = EDIT

    def _form(self, data: Any = None, initial: dict[str, Any] | None = None) -> QuickLogForm:
        return QuickLogForm(
            data,
            org=self.org,
            user=self.request.user,
            search=self.request.GET.get("q", "").strip(),
            initial=initial or {},
        )

    def get(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # A reload (customer chosen, search typed) keeps what the rep already entered.
        keep = set(QuickLogForm.base_fields) - {"contacts"}
        initial: dict[str, Any] = {k: v for k, v in request.GET.items() if k in keep and v}
        contacts = [c for c in request.GET.getlist("contacts") if c]
        if contacts:  # "log this call" after a tel: link names the contact called
            initial["contacts"] = contacts
        if "followup" in initial and "customer" not in initial:
            # Answering a follow-up: its customer (and engagement) are already known.
            initial.update(_answering(request.org, initial["followup"]))
        form = self._form(initial=initial)
        context = self.get_context_data(form=form, next=safe_next(request) or "")
        if request.htmx:
            return render(request, f"{self.template_name}#quick-log-form", context)
        context["timeline"] = selectors.recent_touchpoints_by(request.org, request.user)
        return self.render_to_response(context)

    def post(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # The offline outbox resends with the key it made when the rep tapped Save: the
        # second time, the first answer comes back and nothing is logged again.
        return idempotent_forms.run(request, request.org, lambda: self._log(request))

    def _log(self, request: OrgRequest) -> HttpResponse:
        form = self._form(request.POST)
        touchpoint = None
        answer: answers.Answered | None = None
        if form.is_valid():
            d = form.cleaned_data
            try:
                fields = dict(
                    customer=d["customer"],
                    engagement=d["engagement"],
                    channel=d["channel"],
                    summary=d["summary"],
                    occurred_at=d["occurred_at"],
                    contacts=d.get("contacts") or (),
                    outcome=d["outcome"],
                    sentiment=d["sentiment"],
                    satisfaction=d["satisfaction"],
                    effort_minutes=d["effort_minutes"],
                    next_step=d["next_step"],
                    business_event=d.get("business_event") or "",
                )
                if d.get("followup") is not None:
                    # Answering a follow-up completes it: kept so one click can undo both.
                    answer = answers.touchpoint_answer(
                        org=request.org, actor=request.user, answers=d["followup"], **fields
                    )
                    touchpoint = answer.touchpoint
                else:
                    touchpoint = services.touchpoint_log(
                        org=request.org, actor=request.user, **fields
                    )
            except ValidationError as exc:
                _form_errors_into(form, exc)
        next_url = safe_next(request)
        answered = answer.followup if answer is not None else None
        if touchpoint is None:
            context = self.get_context_data(form=form, next=next_url or "")
            if request.htmx:
                # htmx swaps only 2xx answers; the form with its errors is the answer. The
                # offline outbox tells a refusal from a save by this header.
                response = render(request, f"{self.template_name}#quick-log-form", context)
                response[idempotent_forms.INVALID_HEADER] = "1"
                return response
            context["timeline"] = selectors.recent_touchpoints_by(request.org, request.user)
            return self.render_to_response(context, status=400)
        if request.htmx:
            keep = {"customer": touchpoint.customer} if request.POST.get("keep_customer") else {}
            if keep and request.POST.get("keep_engagement") and touchpoint.engagement_id:
                keep["engagement"] = touchpoint.engagement
            context = self.get_context_data(
                form=QuickLogForm(org=request.org, user=request.user, initial=keep),
                next=next_url or "",
                logged=touchpoint,
                answered=answered,
                answer_text=answered_text(answer) if answer is not None else "",
                undo=answer.change if answer is not None else None,
                undo_label=_("Undo (%(minutes)d min)") % {"minutes": UNDO_MINUTES},
                back_url=next_url or reverse("home", kwargs={"org_slug": request.org.slug}),
                keep_customer=bool(keep),
                keep_engagement=bool(request.POST.get("keep_engagement")),
            )
            return render(request, f"{self.template_name}#quick-log-saved", context)
        if answer is not None:
            back = next_url or followup_path(answer.followup)
            messages.success(request, undo_message(request, answer, back))
            return redirect(back)
        messages.success(
            request,
            _("Touchpoint logged for %(customer)s.") % {"customer": touchpoint.customer.name},
        )
        return redirect(
            next_url
            or reverse(
                "engagements:customer_detail",
                kwargs={"org_slug": request.org.slug, "pk": touchpoint.customer_id},
            )
        )


class AnswerUndoView(OrgViewMixin, View):
    """Undo of answering a follow-up from the quick log: the touchpoint is deleted and the
    follow-up reopened as it was (``engagements.answers``). A plain POST form; with htmx the
    quick log swaps in a fresh form saying what was undone."""

    capabilities = EDIT
    model = BulkChange

    def scope_queryset(self, queryset: Any) -> Any:
        return queryset.filter(actor=self.request.user, scope=answers.SCOPE)

    def post(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        change = self.get_object()
        assert isinstance(change, BulkChange)
        item = change.items[0]
        followup = FollowUp.objects.for_org(request.org).filter(pk=item["followup"]).first()
        title = followup.title if followup is not None else ""
        try:
            bulk.undo(org=request.org, actor=request.user, change=change)
        except (ValidationError, PermissionDenied) as exc:
            reason = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            text, ok = _("Nothing was undone. %(reason)s") % {"reason": reason}, False
        else:
            text = _(
                "Undone: the touchpoint is deleted and the follow-up “%(title)s” is open again."
            ) % {"title": title}
            ok = True
        back = safe_next(request) or reverse("home", kwargs={"org_slug": request.org.slug})
        if request.htmx:
            context = self.get_context_data(
                form=QuickLogForm(org=request.org, user=request.user),
                next=back,
                undo_result=text,
                undo_ok=ok,
                undone_touchpoint=item["touchpoint"],
            )
            return render(request, "engagements/quick_log.html#quick-log-undone", context)
        (messages.success if ok else messages.error)(request, text)
        return redirect(back)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {"org": self.org, "membership": self.org_request.membership, **kwargs}
