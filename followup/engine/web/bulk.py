"""Bulk work on the follow-up lists (My day, Follow-ups) and the undo of any bulk change.

The list's checkboxes post to one form: without ``confirm`` the answer is the confirmation
page (what will change, for how many); with it the bulk service runs and the page goes
back with one message holding an Undo button, valid for ``bulk.UNDO_WINDOW``.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from accounts.mixins import OrgFormMixin, OrgViewMixin
from accounts.models import Organization, User
from accounts.requests import safe_next
from followup.engine import bulk
from followup.engine.models import BulkChange, FollowUp
from followup.engine.web.forms import SNOOZE_LABELS, UserChoiceField

EDIT = {"POST": "records.edit"}


def selected_ids(request: HttpRequest) -> list[uuid.UUID] | None:
    """The ticked rows' ids; None when one is not an id at all (a forged post)."""
    ids = []
    for raw in request.POST.getlist("ids"):
        try:
            ids.append(uuid.UUID(raw))
        except ValueError:
            return None
    return list(dict.fromkeys(ids))


def back_to(request: HttpRequest, default: str) -> str:
    return safe_next(request, default) or default


def undo_message(request: HttpRequest, org: Organization, text: str, change: BulkChange) -> str:
    """The one message of a bulk action, with its Undo button (a small POST form)."""
    action = reverse("followup:bulk_undo", kwargs={"org_slug": org.slug, "pk": change.pk})
    message: SafeString = format_html(
        '{} <form method="post" action="{}" class="inline-form undo-form">'
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
        '<input type="hidden" name="next" value="{}">'
        '<button type="submit" class="small">{}</button></form>',
        text,
        action,
        get_token(request),
        back_to(request, request.path),
        _("Undo (%(minutes)d min)") % {"minutes": bulk.UNDO_WINDOW.seconds // 60},
    )
    return message


def confirmation(
    request: HttpRequest,
    *,
    title: str,
    question: str,
    rows: list[str],
    cancel: str,
    status: int = 200,
    error: str = "",
) -> HttpResponse:
    """The confirmation page: the same post again, with ``confirm``."""
    fields = [
        (name, value)
        for name in request.POST
        if name not in ("csrfmiddlewaretoken", "confirm")
        for value in request.POST.getlist(name)
    ]
    return render(
        request,
        "followup/bulk_confirm.html",
        {
            "title": title,
            "question": question,
            "rows": rows,
            "fields": fields,
            "cancel": cancel,
            "error": error,
            "action_url": request.path,
            "undo_minutes": bulk.UNDO_WINDOW.seconds // 60,
        },
        status=status,
    )


class FollowUpBulkForm(OrgFormMixin, forms.Form):
    action = forms.ChoiceField(
        label=gettext_lazy("With the selected"),
        choices=[
            ("complete", gettext_lazy("Mark done")),
            ("snooze", gettext_lazy("Snooze")),
            ("reassign", gettext_lazy("Give to")),
        ],
        widget=forms.Select(attrs={"data-bulk-action": ""}),
    )
    until = forms.ChoiceField(
        label=gettext_lazy("Snooze for"), choices=SNOOZE_LABELS, required=False
    )
    owner = UserChoiceField(
        label=gettext_lazy("New owner"), queryset=User.objects.none(), required=False
    )

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        super().__init__(*args, org=org, **kwargs)
        owner = self.fields["owner"]
        assert isinstance(owner, forms.ModelChoiceField) and owner.queryset is not None
        owner.queryset = owner.queryset.order_by("display_name", "email")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("action") == "snooze" and not cleaned.get("until"):
            self.add_error("until", _("Choose one of the offered snooze times."))
        if cleaned.get("action") == "reassign" and not cleaned.get("owner"):
            self.add_error("owner", _("Choose a member of this organization."))
        return cleaned

    def question(self, count: int) -> str:
        data = self.cleaned_data
        if data["action"] == "complete":
            return _("Mark these %(n)d follow-ups done?") % {"n": count}
        if data["action"] == "snooze":
            label = dict(SNOOZE_LABELS)[data["until"]]
            return _("Snooze these %(n)d follow-ups (%(when)s)?") % {"n": count, "when": label}
        return _("Give these %(n)d follow-ups to %(name)s?") % {
            "n": count,
            "name": data["owner"].name,
        }

    def done(self, count: int) -> str:
        action = self.cleaned_data["action"]
        if action == "complete":
            return _("%(n)d follow-ups done.") % {"n": count}
        if action == "snooze":
            return _("%(n)d follow-ups snoozed.") % {"n": count}
        return _("%(n)d follow-ups given to %(name)s.") % {
            "n": count,
            "name": self.cleaned_data["owner"].name,
        }


class FollowUpBulkView(OrgViewMixin, View):
    capabilities = EDIT
    model = FollowUp

    def scope_queryset(self, queryset: Any) -> Any:
        return queryset.select_related("owner", "organization")

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        req = self.org_request
        home = reverse("home", kwargs={"org_slug": req.org.slug})
        cancel = back_to(request, home)
        ids = selected_ids(request)
        if ids == []:
            messages.error(request, _("Select at least one follow-up."))
            return redirect(cancel)
        rows: list[FollowUp] = list(self.get_queryset().filter(pk__in=ids)) if ids else []
        form = FollowUpBulkForm(request.POST, org=req.org)
        title = _("Several follow-ups at once")
        if ids is None or len(rows) != len(ids):
            # Unknown, deleted or another organization's ids: nothing is changed.
            return confirmation(
                request,
                title=title,
                question="",
                rows=[],
                cancel=cancel,
                status=400,
                error=_("Some of the selected follow-ups do not exist (any more)."),
            )
        if not form.is_valid():
            errors = " ".join(str(e) for errs in form.errors.values() for e in errs)
            return confirmation(
                request, title=title, question="", rows=[], cancel=cancel, status=400, error=errors
            )
        rows.sort(key=lambda f: (f.due_at, f.pk))
        if not request.POST.get("confirm"):
            return confirmation(
                request,
                title=title,
                question=form.question(len(rows)),
                rows=[f.title for f in rows],
                cancel=cancel,
            )
        try:
            applied = bulk.followups_bulk(
                org=req.org,
                actor=req.user,
                followups=rows,
                action=form.cleaned_data["action"],
                snooze=form.cleaned_data.get("until") or "",
                owner=form.cleaned_data.get("owner"),
            )
        except ValidationError as exc:
            messages.error(
                request, _("Nothing was changed. %(reason)s") % {"reason": " ".join(exc.messages)}
            )
            return redirect(cancel)
        messages.success(
            request, undo_message(request, req.org, form.done(applied.count), applied.change)
        )
        return redirect(cancel)


class BulkUndoView(OrgViewMixin, View):
    capabilities = EDIT
    model = BulkChange

    def scope_queryset(self, queryset: Any) -> Any:
        return queryset.filter(actor=self.request.user)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        req = self.org_request
        change = self.get_object()
        assert isinstance(change, BulkChange)
        try:
            bulk.undo(org=req.org, actor=req.user, change=change)
        except (ValidationError, PermissionDenied) as exc:
            reason = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            messages.error(request, _("Nothing was undone. %(reason)s") % {"reason": reason})
        else:
            messages.success(
                request,
                _("Undone: %(n)d changed back as they were.") % {"n": change.count},
            )
        return redirect(back_to(request, reverse("home", kwargs={"org_slug": req.org.slug})))


def bulk_form(org: Organization) -> FollowUpBulkForm:
    """The bulk bar of a follow-up list."""
    return FollowUpBulkForm(
        org=org, initial={"action": "complete", "until": "tomorrow"}, auto_id="bulk-%s"
    )
