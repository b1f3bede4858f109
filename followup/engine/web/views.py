"""Pages of the follow-up engine (``/o/<org_slug>/...``): follow-ups, notifications,
preferences, the calendar feed and webhooks. Thin: services and selectors do the work."""

from __future__ import annotations

import zoneinfo
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from accounts.mixins import READ_ONLY, OrgViewMixin
from accounts.requests import OrgRequest
from followup.engine import (
    cadence,
    calendar,
    myday,
    notifications,
    selectors,
    services,
    webhooks,
)
from followup.engine.calc import recurrence
from followup.engine.models import (
    FollowUp,
    FollowUpStatus,
    Notification,
    WebhookDelivery,
    WebhookEndpoint,
)
from followup.engine.web.bulk import bulk_form
from followup.engine.web.forms import (
    SNOOZE_LABELS,
    CadenceForm,
    FollowUpForm,
    PreferenceForm,
    ReassignForm,
    SnoozeForm,
    WebhookForm,
)
from followup.kernel import events, sorting
from followup.kernel.models import EventDelivery

READ_EDIT = {**READ_ONLY, "POST": "records.edit"}
ADMIN_ONLY = dict.fromkeys(("GET", "HEAD", "POST"), "webhooks.manage")
STATUS_BADGE = {
    FollowUpStatus.OPEN: "neutral",
    FollowUpStatus.DONE: "ok",
    FollowUpStatus.SKIPPED: "warn",
    FollowUpStatus.CANCELLED: "neutral",
}


def _errors(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _back(request: OrgRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, False):
        return target
    return default


def _home(request: OrgRequest) -> str:
    return reverse("home", kwargs={"org_slug": request.org.slug})


# --- Follow-ups -----------------------------------------------------------------------------


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
    bound = data is not None and form.is_bound and not form.errors
    if bound and followup is None:
        # A new follow-up: the same first occurrence as the save (``cadence.start``), in the
        # zone of the owner chosen in the form.
        rule = data.get("rule")
        owner = data.get("owner") or user
        owner_tz = owner.timezone or "UTC"
        if rule is None:
            return None
        dates = cadence.preview(
            rule, due=data.get("due"), at=data.get("at"), tz=owner_tz, now=timezone.now()
        )
        if dates is None:
            return None
        shown_at = data.get("at") or (
            data["due"].astimezone(zoneinfo.ZoneInfo(owner_tz)).time() if data.get("due") else None
        )
        return {
            "text": cadence.describe(rule, shown_at, tz=owner_tz),
            "dates": dates,
            "tz": owner_tz,
        }
    if bound:
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
        form = CadenceForm(request.GET, org=request.org)
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


# --- Notifications ----------------------------------------------------------------------------


class NotificationsView(OrgViewMixin, TemplateView):
    template_name = "followup/notifications.html"
    # Everyone reads and clears their own notifications, viewers included.
    capabilities = {**READ_ONLY, "POST": "records.view"}
    model = Notification

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        org, user = self.org, self.request.user
        sort = sorting.choose(self.request.GET.get("sort"), selectors.NOTIFICATION_SORTS, "-when")
        unread_only = self.request.GET.get("show") == "unread"
        inbox = notifications.inbox(org, user)
        if unread_only:
            inbox = inbox.filter(read_at__isnull=True)
        rows = list(inbox.order_by(*sort.order_by)[:100])
        for row in rows:
            row.title = notifications.render_title(row)
        context["rows"] = rows
        context["unread"] = sum(1 for r in rows if r.read_at is None)
        context["sort"] = sort.param
        context["unread_only"] = unread_only
        return context

    def post(self, request: OrgRequest) -> HttpResponse:
        count = notifications.mark_read(org=request.org, user=request.user)
        messages.success(request, _("%(count)d marked as read.") % {"count": count})
        return redirect("followup:notifications", org_slug=request.org.slug)


class NotificationReadView(OrgViewMixin, View):
    """Mark one read; then go where it points (the follow-up), or back to the list."""

    capabilities = {"POST": "records.view"}
    model = Notification

    def scope_queryset(self, queryset: Any) -> Any:
        return queryset.filter(recipient=self.request.user)

    def post(self, request: OrgRequest, pk: Any) -> HttpResponse:
        notification = self.get_object()
        notifications.mark_read(org=request.org, user=request.user, ids=[notification.pk])
        if request.POST.get("open") and notification.url.startswith("/"):
            return redirect(notification.url)
        return redirect(
            _back(request, reverse("followup:notifications", kwargs={"org_slug": request.org.slug}))
        )


class BellView(OrgViewMixin, View):
    """htmx polling target: the bell with the unread count (no full reload)."""

    capabilities = READ_ONLY

    def get(self, request: OrgRequest) -> HttpResponse:
        response = render(
            request,
            "followup/partials/bell.html",
            {"unread": notifications.unread_count(request.org, request.user)},
        )
        response["Cache-Control"] = "no-store"
        return response


class PreferencesView(OrgViewMixin, TemplateView):
    template_name = "followup/preferences.html"
    capabilities = {**READ_ONLY, "POST": "records.view"}

    def _rows(self, data: Any = None) -> list[dict[str, Any]]:
        rows = []
        for key, spec, choice in notifications.preferences(self.org, self.request.user):
            form = PreferenceForm(
                data,
                prefix=key.replace(".", "-"),
                digestible=spec.digestible,
                initial={"in_app": choice.in_app, "email": choice.email},
            )
            rows.append({"key": key, "spec": spec, "form": form})
        return rows

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["rows"] = kwargs.get("rows") or self._rows()
        context["user_tz"] = self.request.user.timezone
        context["digest_hour"] = settings.FOLLOWUP_DIGEST_HOUR
        return context

    def post(self, request: OrgRequest) -> HttpResponse:
        rows = self._rows(request.POST)
        if not all(row["form"].is_valid() for row in rows):
            return self.render_to_response(self.get_context_data(rows=rows), status=400)
        for row in rows:
            notifications.preference_set(
                org=request.org,
                user=request.user,
                kind=row["key"],
                in_app=row["form"].cleaned_data["in_app"],
                email=row["form"].cleaned_data["email"],
            )
        messages.success(request, _("Notification settings saved."))
        return redirect("followup:preferences", org_slug=request.org.slug)


# --- Calendar feed ------------------------------------------------------------------------------


class CalendarView(OrgViewMixin, TemplateView):
    """The person's secret calendar address: create, regenerate, revoke."""

    template_name = "followup/calendar.html"
    capabilities = {**READ_ONLY, "POST": "records.view"}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["feed"] = calendar.active_feed(self.org, self.request.user)
        context["feed_url"] = kwargs.get("feed_url")
        return context

    def post(self, request: OrgRequest) -> HttpResponse:
        if request.POST.get("action") == "revoke":
            calendar.feed_revoke(org=request.org, user=request.user)
            messages.success(request, _("The calendar address was revoked."))
            return redirect("followup:calendar", org_slug=request.org.slug)
        token = calendar.feed_create(org=request.org, user=request.user)
        url = settings.BASE_URL + reverse("followup:calendar_feed", kwargs={"token": token})
        # Rendered, not redirected: the secret address must not travel in a redirect.
        response = self.render_to_response(self.get_context_data(feed_url=url))
        response["Cache-Control"] = "no-store"
        return response


@never_cache
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """Public: the token is the credential. Unknown or revoked: 404, nothing else said."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405)
    feed = calendar.feed_by_token(token)
    if feed is None:
        raise Http404
    host = request.get_host().split(":")[0] or "followup"
    body = calendar.feed_body(feed, base_url=settings.BASE_URL, host=host, now=timezone.now())
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="followup.ics"'
    return response


# --- Webhooks -----------------------------------------------------------------------------------


class WebhooksView(OrgViewMixin, TemplateView):
    template_name = "followup/webhooks.html"
    capabilities = ADMIN_ONLY
    model = WebhookEndpoint

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["endpoints"] = selectors.endpoints(self.org)
        context["failing_events"] = selectors.failing_event_deliveries(self.org).count()
        context["form"] = kwargs.get("form") or WebhookForm()
        context["created"] = kwargs.get("created")
        return context

    def post(self, request: OrgRequest) -> HttpResponse:
        form = WebhookForm(request.POST)
        if form.is_valid():
            try:
                endpoint = webhooks.endpoint_create(
                    org=request.org,
                    actor=request.user,
                    url=form.cleaned_data["url"],
                    event_types=form.cleaned_data["event_types"],
                    description=form.cleaned_data["description"],
                )
            except ValidationError as exc:
                form.add_error(None, _errors(exc))
            else:
                response = self.render_to_response(self.get_context_data(created=endpoint))
                response["Cache-Control"] = "no-store"
                return response
        return self.render_to_response(self.get_context_data(form=form), status=400)


class WebhookDetailView(OrgViewMixin, TemplateView):
    """One endpoint: its settings and its delivery log, with replay."""

    template_name = "followup/webhook_detail.html"
    capabilities = ADMIN_ONLY
    model = WebhookEndpoint

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        endpoint = kwargs.get("endpoint") or self.get_object()
        form = kwargs.get("form") or WebhookForm(
            initial={
                "url": endpoint.url,
                "description": endpoint.description,
                "event_types": endpoint.event_types,
                "enabled": endpoint.enabled,
            }
        )
        context.update(
            endpoint=endpoint,
            form=form,
            deliveries=selectors.deliveries(self.org, endpoint)[:100],
            secret=kwargs.get("secret"),
        )
        return context

    def post(self, request: OrgRequest, pk: Any) -> HttpResponse:
        endpoint = self.get_object()
        action = request.POST.get("action", "save")
        if action == "delete":
            webhooks.endpoint_delete(endpoint=endpoint, actor=request.user)
            messages.success(request, _("Endpoint deleted."))
            return redirect("followup:webhooks", org_slug=request.org.slug)
        if action == "rotate":
            endpoint = webhooks.endpoint_rotate_secret(endpoint=endpoint, actor=request.user)
            response = self.render_to_response(
                self.get_context_data(endpoint=endpoint, secret=endpoint.secret)
            )
            response["Cache-Control"] = "no-store"
            return response
        form = WebhookForm(request.POST)
        if form.is_valid():
            try:
                webhooks.endpoint_update(endpoint=endpoint, actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, _errors(exc))
            else:
                messages.success(request, _("Endpoint saved."))
                return redirect(
                    "followup:webhook_detail", org_slug=request.org.slug, pk=endpoint.pk
                )
        return self.render_to_response(
            self.get_context_data(endpoint=endpoint, form=form), status=400
        )


class WebhookReplayView(OrgViewMixin, View):
    capabilities = {"POST": "webhooks.manage"}
    model = WebhookDelivery

    def post(self, request: OrgRequest, pk: Any) -> HttpResponse:
        from followup.engine.tasks import replay_webhook

        delivery = self.get_object()
        replay_webhook.delay(str(request.org.pk), str(delivery.pk))
        messages.success(
            request,
            _("Replay of %(id)s queued: it is sent in a moment.") % {"id": delivery.message_id},
        )
        return redirect(
            "followup:webhook_detail", org_slug=request.org.slug, pk=delivery.endpoint_id
        )


class EventDeliveriesView(OrgViewMixin, TemplateView):
    """Admins: the outbox's deliveries to subscribers that are failing, with the error of
    the last attempt and a retry button. Webhook endpoints' own HTTP deliveries are on each
    endpoint's page; these are the steps before (a subscriber such as the webhook fan-out
    or the health refresh raising on an event)."""

    template_name = "followup/event_deliveries.html"
    capabilities = ADMIN_ONLY
    model = EventDelivery

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["rows"] = selectors.failing_event_deliveries(self.org)[:200]
        context["max_attempts"] = events.MAX_ATTEMPTS
        return context


class EventDeliveryRetryView(OrgViewMixin, View):
    capabilities = {"POST": "webhooks.manage"}
    model = EventDelivery

    def post(self, request: OrgRequest, pk: Any) -> HttpResponse:
        delivery = self.get_object()
        try:
            events.delivery_retry(org=request.org, delivery_id=delivery.pk)
        except events.RetryRefused:
            messages.error(request, _("This delivery is done or being attempted right now."))
        else:
            messages.success(request, _("Retry queued: it runs in a moment."))
        return redirect("followup:event_deliveries", org_slug=request.org.slug)


class HomeView(OrgViewMixin, TemplateView):
    """My day: the organization's home page, the page a rep opens first."""

    template_name = "followup/home.html"
    model = FollowUp

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        org, user = self.org, self.request.user
        context["day"] = day = selectors.my_day(org, user)
        # Other apps' rows (followup.engine.myday), for the signed-in person.
        context["extra_sections"] = myday.sections(org, self.org_request.user, day)
        context["snooze_choices"] = SNOOZE_LABELS
        context["can_edit"] = self.membership.can("records.edit")
        context["can_team"] = self.membership.can("team.view")
        if context["can_edit"]:
            context["bulk"] = bulk_form(org)
        return context
