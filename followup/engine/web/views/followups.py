"""Follow-up pages: list, create, detail, cadence preview, actions, team view."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from accounts.mixins import READ_ONLY, OrgViewMixin
from accounts.requests import OrgRequest
from followup.engine import (
    cadence,
    selectors,
    services,
)
from followup.engine.calc import recurrence
from followup.engine.models import (
    FollowUp,
    FollowUpStatus,
)
from followup.engine.web.bulk import bulk_form
from followup.engine.web.forms import (
    SNOOZE_LABELS,
    CadenceForm,
    FollowUpForm,
    ReassignForm,
    SnoozeForm,
)
from followup.engine.web.views.base import (
    READ_EDIT,
    STATUS_BADGE,
    _back,
    _errors,
    _home,
)
from followup.kernel import sorting


class FollowUpListView(OrgViewMixin, TemplateView):
    template_name = "followup/followup_list.html"
    model = FollowUp
    STATUSES = ("open", "done", "skipped", "cancelled", "all")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        org, user = self.org, self.request.user
        status = self.request.GET.get("status", "open")
        status = status if status in self.STATUSES else "open"
        mine = self.request.GET.get("who", "mine") != "all"
        rows = selectors.followups(org)
        if status != "all":
            rows = rows.filter(status=status)
        if mine:
            rows = rows.filter(owner=user)
        sort = sorting.choose(
            self.request.GET.get("sort"),
            selectors.FOLLOWUP_SORTS,
            "due" if status == "open" else "-updated",
        )
        context.update(
            rows=selectors.with_subjects(org, rows.order_by(*sort.order_by)[:200]),
            sort=sort.param,
            status=status,
            mine=mine,
            statuses=[
                (s, FollowUpStatus(s).label if s != "all" else _("All")) for s in self.STATUSES
            ],
            now=timezone.now(),
            snooze_choices=SNOOZE_LABELS,
            can_edit=self.membership.can("records.edit"),
        )
        if context["can_edit"]:
            context["bulk"] = bulk_form(org)
        return context


def _form_context(request: OrgRequest, form: FollowUpForm, followup: FollowUp | None) -> dict:
    preview = _preview(form, followup, request.user)
    return {"form": form, "followup": followup, "preview": preview}


def _preview(form: Any, followup: FollowUp | None, user: Any) -> dict[str, Any] | None:
    """Plain words and the next five dates of the cadence in the form (or the saved one)."""
    rule = None
    at = None
    start = None
    data = getattr(form, "cleaned_data", None)
    if data is not None and form.is_bound and not form.errors:
        rule = data.get("rule")
        due = data.get("due") or (followup.due_at if followup else None)
        at = data.get("at") or (
            due.astimezone(timezone.get_current_timezone()).time() if due else None
        )
        start = due.astimezone(timezone.get_current_timezone()).date() if due else None
    elif followup is not None and followup.recurrence:
        rule = recurrence.parse(followup.recurrence)
        at = followup.recurrence_time
        start = followup.recurrence_start
    if rule is None or at is None or start is None:
        return None
    owner_tz = (followup.owner.timezone if followup else user.timezone) or "UTC"
    dates = recurrence.occurrences(
        rule, start=start, at=at, tz=owner_tz, after=timezone.now() - timedelta(seconds=1)
    )
    return {"text": cadence.describe(rule, at, tz=owner_tz), "dates": dates, "tz": owner_tz}


class FollowUpCreateView(OrgViewMixin, TemplateView):
    template_name = "followup/followup_form.html"
    capabilities = READ_EDIT
    model = FollowUp

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = kwargs.get("form")
        if form is None:
            initial = {
                "owner": self.request.user.pk,
                "due": (timezone.localtime() + timedelta(days=1)).replace(
                    hour=9, minute=0, second=0, microsecond=0
                ),
                "subject_type": self.request.GET.get("subject_type", ""),
                "subject_id": self.request.GET.get("subject_id", ""),
            }
            form = FollowUpForm(org=self.org, initial=initial)
        context.update(_form_context(self.request, form, None))
        return context

    def post(self, request: OrgRequest) -> HttpResponse:
        form = FollowUpForm(request.POST, org=request.org)
        if form.is_valid():
            data = form.cleaned_data
            try:
                followup = services.followup_create(
                    org=request.org,
                    actor=request.user,
                    title=data["title"],
                    owner=data["owner"],
                    due_at=data["due"],
                    notes=data["notes"],
                    priority=data["priority"],
                    subject=data["subject"],
                    recurrence_rule=data["rule"].to_text() if data.get("rule") else None,
                    recurrence_time=form.recurrence_time(),
                    reminder_offsets=data["reminders"] or [0],
                )
            except ValidationError as exc:
                form.add_error(None, _errors(exc))
            else:
                messages.success(
                    request, _("Follow-up “%(title)s” created.") % {"title": followup.title}
                )
                return redirect(_back(request, services.followup_path(followup)))
        return self.render_to_response(self.get_context_data(form=form), status=400)


class FollowUpDetailView(OrgViewMixin, TemplateView):
    """A follow-up: what, when, cadence with its next dates, actions, and the edit form."""

    template_name = "followup/followup_detail.html"
    capabilities = READ_EDIT
    model = FollowUp

    def scope_queryset(self, queryset: Any) -> Any:
        return queryset.select_related("owner", "completed_by", "organization", "previous")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        followup = kwargs.get("followup") or self.get_object()
        (followup,) = selectors.with_subjects(self.org, [followup])
        form = kwargs.get("form")
        if form is None and followup.is_open:
            initial = {
                "title": followup.title,
                "owner": followup.owner_id,
                "due": timezone.localtime(followup.due_at),
                "priority": followup.priority,
                "reminders": followup.reminder_offsets,
                "notes": followup.notes,
                "version": followup.version,
            }
            form = FollowUpForm(org=self.org, initial=initial)
            form.initial.update(form.cadence_initial(followup))
        context.update(
            _form_context(self.request, form, followup) if form else {"followup": followup}
        )
        if not followup.is_open:
            context["preview"] = None
        context.update(
            followup=followup,
            badge=STATUS_BADGE[followup.status],
            snooze_choices=SNOOZE_LABELS,
            reassign_form=ReassignForm(org=self.org, initial={"owner": followup.owner_id}),
            can_edit=self.membership.can("records.edit"),
            now=timezone.now(),
        )
        return context

    def post(self, request: OrgRequest, pk: Any) -> HttpResponse:
        followup = self.get_object()
        form = FollowUpForm(request.POST, org=request.org)
        if not form.is_valid():
            return self._refused(followup.pk, form)
        data = form.cleaned_data
        try:
            services.followup_update(
                followup=followup,
                actor=request.user,
                expected_version=data.get("version"),
                title=data["title"],
                owner=data["owner"],
                due_at=data["due"],
                notes=data["notes"],
                priority=data["priority"],
                reminder_offsets=data["reminders"] or [0],
                recurrence_rule=data["rule"].to_text() if data.get("rule") else "",
                recurrence_time=form.recurrence_time(),
            )
        except services.StaleEdit as exc:
            # Keep what the person typed, now against the current version: saving again
            # is a deliberate overwrite.
            retry = request.POST.copy()
            retry["version"] = str(self.get_queryset().get(pk=followup.pk).version)
            form = FollowUpForm(retry, org=request.org)
            form.is_valid()
            form.add_error(None, _errors(exc))
            return self._refused(followup.pk, form)
        except services.TransitionError as exc:
            # Completed, skipped or cancelled meanwhile (another tab): nothing is left to
            # edit; the page shows the follow-up as it is now and says why.
            messages.error(request, str(exc))
            return self._refused(followup.pk, None)
        except ValidationError as exc:
            form.add_error(None, _errors(exc))
            return self._refused(followup.pk, form)
        messages.success(request, _("Follow-up saved."))
        return redirect(services.followup_path(followup))

    def _refused(self, pk: Any, form: FollowUpForm | None) -> HttpResponse:
        """The page again (400), with the follow-up as it is now."""
        current = self.get_queryset().filter(pk=pk).first()
        if current is None:
            messages.error(self.request, _("This follow-up was deleted meanwhile."))
            return redirect(_home(self.org_request))
        return self.render_to_response(
            self.get_context_data(form=form, followup=current), status=400
        )


class CadencePreviewView(OrgViewMixin, View):
    """htmx: the cadence in plain words and its next five dates, as the form changes."""

    capabilities = READ_ONLY

    def get(self, request: OrgRequest) -> HttpResponse:
        form = CadenceForm(request.GET)
        preview = None
        error = ""
        if form.is_valid():
            preview = _preview(form, None, request.user)
        else:
            error = " ".join(str(e) for errors in form.errors.values() for e in errors)
        return render(
            request,
            "followup/followup_form.html#cadence-preview",
            {"preview": preview, "preview_error": error},
        )


class FollowUpActionView(OrgViewMixin, View):
    """Complete, skip, snooze, reassign or cancel: from My day, the lists, a notification.

    A plain form post redirects back; an htmx post gets the updated row of the list it
    came from (``row`` = ``day`` or ``list``), or an empty answer when the row leaves it.
    """

    capabilities = {"POST": "records.edit"}
    model = FollowUp
    ACTIONS = ("complete", "skip", "snooze", "reassign", "cancel", "reopen")

    def scope_queryset(self, queryset: Any) -> Any:
        return queryset.select_related("owner", "organization")

    def post(self, request: OrgRequest, pk: Any, action: str) -> HttpResponse:
        if action not in self.ACTIONS:
            raise Http404
        followup = self.get_object()
        error = None
        message = ""
        try:
            message = self._apply(request, followup, action)
        except ValidationError as exc:
            error = _errors(exc)
        except services.TransitionError as exc:
            error = str(exc)
        if request.htmx:
            return self._htmx(request, followup, error, message)
        if error:
            messages.error(request, error)
        else:
            messages.success(request, message)
        return redirect(_back(request, _home(request)))

    def _apply(self, request: OrgRequest, followup: FollowUp, action: str) -> str:
        actor = request.user
        if action == "complete":
            outcome = services.followup_complete(followup=followup, actor=actor)
            if outcome.next is not None:
                return _("Done. Next one: %(when)s.") % {
                    "when": timezone.localtime(outcome.next.due_at).strftime("%Y-%m-%d %H:%M")
                }
            return _("Done: %(title)s.") % {"title": followup.title}
        if action == "skip":
            services.followup_skip(followup=followup, actor=actor)
            return _("Skipped: %(title)s.") % {"title": followup.title}
        if action == "cancel":
            services.followup_cancel(followup=followup, actor=actor)
            return _("Cancelled: %(title)s.") % {"title": followup.title}
        if action == "reopen":
            services.followup_reopen(followup=followup, actor=actor)
            return _("Reopened: %(title)s.") % {"title": followup.title}
        if action == "snooze":
            form = SnoozeForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Choose one of the offered snooze times."))
            until = services.snooze_target(followup, form.cleaned_data["until"])
            services.followup_snooze(followup=followup, actor=actor, until=until)
            return _("Snoozed until %(when)s.") % {
                "when": timezone.localtime(until).strftime("%Y-%m-%d %H:%M")
            }
        form = ReassignForm(request.POST, org=request.org)
        if not form.is_valid():
            raise ValidationError(_("Choose a member of this organization."))
        services.followup_reassign(followup=followup, actor=actor, owner=form.cleaned_data["owner"])
        return _("Given to %(name)s.") % {"name": form.cleaned_data["owner"].name}

    def _htmx(
        self, request: OrgRequest, followup: FollowUp, error: str | None, message: str
    ) -> HttpResponse:
        followup = self.get_queryset().get(pk=followup.pk)
        (followup,) = selectors.with_subjects(request.org, [followup])
        template = (
            "followup/home.html#day-row"
            if request.POST.get("row") == "day"
            else "followup/followup_list.html#list-row"
        )
        return render(
            request,
            template,
            {
                "item": followup,
                "row_error": error,
                "row_message": message,
                "snooze_choices": SNOOZE_LABELS,
                "can_edit": True,
                "now": timezone.now(),
            },
        )


class TeamView(OrgViewMixin, TemplateView):
    """A manager's view: the team's overdue follow-ups, by person."""

    template_name = "followup/team.html"
    capabilities = {"GET": "team.view", "HEAD": "team.view"}
    model = FollowUp

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        sort = sorting.choose(self.request.GET.get("sort"), selectors.TEAM_SORTS, "due")
        context["people"] = selectors.team_overdue(self.org, order=sort.order_by)
        context["sort"] = sort.param
        context["now"] = timezone.now()
        return context
