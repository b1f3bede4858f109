from __future__ import annotations

import csv
import datetime as dt
import json
import uuid
from typing import Any, cast

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, TemplateView

from accounts import audit, departures, ratelimit, selectors, services
from accounts.mixins import OrgViewMixin
from accounts.models import ApiKey, AuditEntry, Invitation, Membership, User
from accounts.requests import OrgRequest, safe_next
from accounts.roles import can_change_holder
from accounts.web.forms import (
    ApiKeyForm,
    AuditFilterForm,
    EmailAuthenticationForm,
    InviteForm,
    LanguageForm,
    MemberRemoveForm,
    NormalizedPasswordResetForm,
    OrganizationCreateForm,
    OrganizationSettingsForm,
    ProfileForm,
    ResendConfirmationForm,
    RoleForm,
    SignUpForm,
)


def _org_home(org_slug: str) -> str:
    return reverse("home", kwargs={"org_slug": org_slug})


def _error_text(exc: ValidationError | PermissionDenied) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or _("Your role does not allow this.")


# --- Anonymous and personal pages -------------------------------------------------------------


def _rate_limited(request: HttpRequest, scope: str, per_hour: int) -> HttpResponse | None:
    """Count one attempt of the client's address; the 429 page once over the hourly limit."""
    client = get_client_ip_address(request) or "unknown"
    verdict = ratelimit.hit(scope, client, limit=per_hour, window=3600)
    if verdict.allowed:
        return None
    minutes = max(1, -(-verdict.retry_after // 60))
    response = render(request, "accounts/rate_limited.html", {"retry_minutes": minutes}, status=429)
    response["Retry-After"] = str(verdict.retry_after)
    return response


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset, with the identifier normalised and requests rate-limited per address.
    It already answers the same for known and unknown addresses."""

    form_class = NormalizedPasswordResetForm

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        limited = _rate_limited(request, "password-reset", settings.FOLLOWUP_PASSWORD_RESET_RATE)
        return limited or super().post(request, *args, **kwargs)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """The reset link was mailed to the address, so using it confirms the address too."""

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        services.email_confirmed_by_reset(user=form.user)
        return response


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True


class SignUpView(FormView):
    template_name = "accounts/signup.html"
    form_class = SignUpForm

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            return redirect("accounts:organization_create")
        if request.method == "POST":
            limited = _rate_limited(request, "signup", settings.FOLLOWUP_SIGNUP_RATE)
            if limited is not None:
                return limited
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form: SignUpForm) -> HttpResponse:
        data = form.cleaned_data
        # Known and unknown addresses get the same answer (status, redirect, page, no
        # cookie): a new address is mailed a confirmation link, a known one's owner a note
        # that someone tried (services.sign_up_request).
        services.sign_up_request(
            email=data["email"],
            password=data["password"],
            display_name=data["display_name"],
            timezone_name=data["timezone"],
            language=translation.get_language() or "",
        )
        return redirect("accounts:signup_sent")


def _confirmation_hours() -> int:
    return int(settings.SIGNUP_CONFIRMATION_TTL.total_seconds() // 3600)


class SignUpSentView(TemplateView):
    template_name = "accounts/signup_sent.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "hours": _confirmation_hours()}


class SignUpConfirmView(View):
    """The link mailed at sign-up. Opening it shows one button (a mail scanner that fetches
    links must not use up the one-time link); the button confirms the address, logs the
    person in and continues to creating their organization."""

    template_name = "accounts/signup_confirm.html"

    def _refused(self, request: HttpRequest, exc: Exception) -> HttpResponse:
        expired = isinstance(exc, services.ConfirmationExpired)
        return render(
            request,
            self.template_name,
            {"expired": expired, "invalid": not expired, "hours": _confirmation_hours()},
            status=410 if expired else 404,
        )

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        try:
            user = services.sign_up_confirmation_check(token=token)
        except (services.ConfirmationInvalid, services.ConfirmationExpired) as exc:
            return self._refused(request, exc)
        return render(request, self.template_name, {"pending": user})

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        try:
            user = services.sign_up_confirm(token=token, password=request.POST.get("password", ""))
        except (services.ConfirmationInvalid, services.ConfirmationExpired) as exc:
            return self._refused(request, exc)
        except services.ConfirmationPasswordWrong:
            pending = services.sign_up_confirmation_check(token=token)
            error = _(
                "That is not the password of this sign-up. Type the password you chose "
                "when you signed up, or choose a new one with “Forgot your password?”."
            )
            return render(
                request,
                self.template_name,
                {"pending": pending, "password_error": error},
                status=400,
            )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(
            request, _("Your e-mail address is confirmed. Now create your organization.")
        )
        return redirect("accounts:organization_create")


class ResendConfirmationView(View):
    """A new confirmation link, for an unconfirmed account; the same answer for every
    address, rate-limited per client address like sign-up."""

    template_name = "accounts/signup_resend.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, self.template_name, {"form": ResendConfirmationForm()})

    def post(self, request: HttpRequest) -> HttpResponse:
        limited = _rate_limited(request, "signup-resend", settings.FOLLOWUP_SIGNUP_RATE)
        if limited is not None:
            return limited
        form = ResendConfirmationForm(request.POST)
        if not form.is_valid():
            return render(request, self.template_name, {"form": form}, status=400)
        services.sign_up_resend(email=form.cleaned_data["email"])
        return redirect("accounts:signup_sent")


class OrganizationCreateView(LoginRequiredMixin, FormView):
    template_name = "accounts/organization_create.html"
    form_class = OrganizationCreateForm

    def get_initial(self) -> dict[str, Any]:
        return {"timezone": self.request.user.timezone}

    def form_valid(self, form: OrganizationCreateForm) -> HttpResponse:
        org = services.organization_create(
            name=form.cleaned_data["name"],
            owner=self.request.user,
            timezone_name=form.cleaned_data["timezone"],
        )
        messages.success(self.request, _("%(org)s is ready.") % {"org": org.name})
        return redirect(_org_home(org.slug))


class ProfileView(LoginRequiredMixin, FormView):
    template_name = "accounts/profile.html"
    form_class = ProfileForm
    success_url = reverse_lazy("accounts:profile")

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "instance": self.request.user}

    def form_valid(self, form: ProfileForm) -> HttpResponse:
        user = form.save()
        if user.language:
            translation.activate(user.language)
        messages.success(self.request, _("Your profile was saved."))
        return super().form_valid(form)


class SetLanguageView(View):
    """Switch the interface language; remembered on the account when logged in."""

    def post(self, request: HttpRequest) -> HttpResponse:
        form = LanguageForm(request.POST)
        next_url = safe_next(request, "/") or "/"
        response = HttpResponseRedirect(next_url)
        if form.is_valid():
            language = form.cleaned_data["language"]
            if request.user.is_authenticated:
                request.user.language = language
                request.user.save(update_fields=["language"])
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                language,
                max_age=365 * 24 * 3600,
                samesite="Lax",
                secure=request.is_secure(),
            )
        return response


class HomeRedirectView(View):
    """``/``: the first organization of a signed-in person, the login page otherwise."""

    def get(self, request: HttpRequest) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect("accounts:login")
        membership = selectors.memberships_of(request.user).first()
        if membership is None:
            return redirect("accounts:organization_create")
        return redirect(_org_home(membership.organization.slug))


class InvitationAcceptView(View):
    template_name = "accounts/invitation.html"

    def _context(self, invitation: Invitation | None, **extra: Any) -> dict[str, Any]:
        return {"invitation": invitation, **extra}

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        invitation = services.invitation_by_token(token)
        if invitation is None or not invitation.is_pending:
            return render(request, self.template_name, self._context(None), status=404)
        form = None if request.user.is_authenticated else SignUpForm(invited_email=invitation.email)
        return render(request, self.template_name, self._context(invitation, form=form))

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        invitation = services.invitation_by_token(token)
        if invitation is None or not invitation.is_pending:
            return render(request, self.template_name, self._context(None), status=404)
        if request.user.is_authenticated:
            user = request.user
        else:
            form = SignUpForm(request.POST, invited_email=invitation.email)
            if not form.is_valid():
                return render(
                    request, self.template_name, self._context(invitation, form=form), status=400
                )
            data = form.cleaned_data
            user = User.objects.create_user(
                email=invitation.email,
                password=data["password"],
                display_name=data["display_name"],
                timezone=data["timezone"],
                language=translation.get_language() or "",
            )
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        try:
            membership = services.invitation_accept(invitation=invitation, user=user)
        except ValidationError as exc:
            return render(
                request,
                self.template_name,
                self._context(invitation, error=_error_text(exc)),
                status=400,
            )
        messages.success(request, _("You joined %(org)s.") % {"org": membership.organization.name})
        return redirect(_org_home(membership.organization.slug))


# --- Organization pages -------------------------------------------------------------------


def _may_change(actor: Membership, member: Membership) -> bool:
    """Whether the actor may change or remove ``member``: not themselves (they leave
    instead), and an owner only if they are one (the services decide; pages only ask)."""
    return (
        actor.can("members.manage")
        and member.pk != actor.pk
        and can_change_holder(actor.role, member.role)
    )


def _member_rows(members: Any, actor: Membership) -> list[Membership]:
    """Mark which rows the actor may edit."""
    rows = list(members)
    for member in rows:
        member.editable = _may_change(actor, member)
    return rows


def _role_choices(actor: Membership) -> list[tuple[str, str]]:
    return RoleForm(granter_role=actor.role).fields["role"].choices


class MembersView(OrgViewMixin, TemplateView):
    template_name = "accounts/members.html"
    capabilities = {"GET": "members.view", "HEAD": "members.view", "POST": "members.manage"}
    model = Membership

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        membership = self.membership
        context = super().get_context_data(**kwargs)
        context.update(
            members=_member_rows(
                self.get_queryset().select_related("user").order_by("user__email"), membership
            ),
            invitations=selectors.pending_invitations(self.org),
            can_manage=membership.can("members.manage"),
            role_choices=_role_choices(membership),
            invite_form=kwargs.get("invite_form") or InviteForm(granter_role=membership.role),
        )
        return context

    def post(self, request: OrgRequest) -> HttpResponse:
        form = InviteForm(request.POST, granter_role=request.membership.role)
        if form.is_valid():
            try:
                services.invitation_send(
                    actor=request.membership,
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(
                    request,
                    _("Invitation sent to %(email)s.") % {"email": form.cleaned_data["email"]},
                )
                return redirect("accounts:members", org_slug=request.org.slug)
        return self.render_to_response(self.get_context_data(invite_form=form), status=400)


class MemberRoleView(OrgViewMixin, View):
    capabilities = {"POST": "members.manage"}
    model = Membership

    def post(self, request: OrgRequest, pk: Any) -> HttpResponse:
        membership = self.get_object()
        form = RoleForm(request.POST, granter_role=request.membership.role)
        error = None
        if not form.is_valid():
            error = _("Choose one of the offered roles.")
        else:
            try:
                membership = services.membership_change_role(
                    actor=request.membership, membership=membership, role=form.cleaned_data["role"]
                )
            except (ValidationError, PermissionDenied) as exc:
                error = _error_text(exc)
        if request.htmx:
            membership.refresh_from_db()
            (row,) = _member_rows([membership], request.membership)
            return render(
                request,
                "accounts/members.html#member-row",
                {
                    "member": row,
                    "row_error": error,
                    "role_choices": _role_choices(request.membership),
                },
                # htmx swaps 2xx only; the row with its error message is the useful answer.
                status=200,
            )
        if error:
            messages.error(request, error)
        else:
            messages.success(
                request, _("Role of %(name)s changed.") % {"name": membership.user.name}
            )
        return redirect("accounts:members", org_slug=request.org.slug)


class MemberRemoveView(OrgViewMixin, TemplateView):
    """Remove a member (or leave): first what they hold and who takes it over, then do it."""

    template_name = "accounts/member_remove.html"
    # Everyone may leave; removing somebody else is checked here for the page and in the
    # service for the act.
    capabilities = {"GET": "members.view", "HEAD": "members.view", "POST": "members.view"}
    model = Membership

    def _target(self) -> tuple[Membership, bool]:
        membership = cast(Membership, self.get_object())
        actor = self.membership
        leaving = membership.pk == actor.pk
        if not leaving and not _may_change(actor, membership):
            raise PermissionDenied
        return membership, leaving

    def _form(self, membership: Membership, leaving: bool, data: Any = None) -> MemberRemoveForm:
        org, person = self.org, membership.user
        return MemberRemoveForm(
            data,
            candidates=list(selectors.successor_candidates(org, person)),
            default=selectors.default_successor(org, person, self.org_request.user),
            leaving_self=leaving,
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        membership, leaving = self._target()
        context = super().get_context_data(**kwargs)
        context.update(
            member=membership,
            leaving=leaving,
            holdings=departures.holdings(self.org, membership.user),
            form=kwargs.get("form") or self._form(membership, leaving),
        )
        return context

    def post(self, request: OrgRequest, pk: Any) -> HttpResponse:
        membership, leaving = self._target()
        form = self._form(membership, leaving, request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        try:
            removal = services.membership_remove(
                actor=request.membership, membership=membership, successor=form.successor
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict") and "successor" in exc.error_dict:
                form.add_error("hand_over_to", exc.error_dict["successor"])
                return self.render_to_response(self.get_context_data(form=form), status=400)
            messages.error(request, _error_text(exc))
            return redirect("accounts:members", org_slug=request.org.slug)
        except PermissionDenied as exc:
            messages.error(request, _error_text(exc))
            return redirect("accounts:members", org_slug=request.org.slug)
        values = {
            "org": request.org.name,
            "name": membership.user.name,
            "details": departures.summary(removal.tallies),
        }
        if leaving:
            text = (
                _("You left %(org)s: %(details)s.") if values["details"] else _("You left %(org)s.")
            )
        elif values["details"]:
            text = _("%(name)s was removed: %(details)s.")
        else:
            text = _("%(name)s was removed.")
        messages.success(request, text % values)
        if leaving:
            return redirect("root")
        return redirect("accounts:members", org_slug=request.org.slug)


class InvitationRevokeView(OrgViewMixin, View):
    capabilities = {"POST": "members.manage"}
    model = Invitation

    def post(self, request: OrgRequest, pk: Any) -> HttpResponse:
        invitation = self.get_object()
        services.invitation_revoke(actor=request.membership, invitation=invitation)
        messages.success(
            request, _("Invitation of %(email)s revoked.") % {"email": invitation.email}
        )
        return redirect("accounts:members", org_slug=request.org.slug)


class OrganizationSettingsView(OrgViewMixin, TemplateView):
    template_name = "accounts/organization_settings.html"
    capabilities = {"GET": "records.view", "HEAD": "records.view", "POST": "org.manage"}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["form"] = kwargs.get("form") or OrganizationSettingsForm(instance=self.org)
        context["can_manage"] = self.membership.can("org.manage")
        return context

    def post(self, request: OrgRequest) -> HttpResponse:
        form = OrganizationSettingsForm(request.POST, instance=request.org)
        if form.is_valid():
            services.organization_update(
                actor=request.membership,
                name=form.cleaned_data["name"],
                timezone_name=form.cleaned_data["timezone"],
            )
            messages.success(request, _("Settings saved."))
            return redirect("accounts:organization_settings", org_slug=request.org.slug)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class AuditLogView(OrgViewMixin, TemplateView):
    """The organization's audit trail: filter, page back in time, export what is shown."""

    template_name = "accounts/audit_log.html"
    capabilities = {"GET": "audit.view", "HEAD": "audit.view"}
    model = AuditEntry
    page_size = 50

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        org = self.org
        known = AuditEntry.objects.for_org(org)
        actions = sorted(set(known.values_list("action", flat=True).distinct()))
        object_types = sorted(set(known.values_list("object_type", flat=True).distinct()) - {""})
        form = AuditFilterForm(
            request.GET or None,
            actions=[(a, audit.action_label(a)) for a in actions],
            object_types=object_types,
        )
        filters = form.cleaned_data if form.is_valid() else {}
        rows = selectors.audit_entries(
            org,
            actor=filters.get("actor") or "",
            action=filters.get("action") or "",
            object_type=filters.get("object_type") or "",
            since=filters.get("since"),
            until=filters.get("until"),
        )
        if request.GET.get("format") == "csv":
            return _audit_csv(org, rows)
        before = request.GET.get("before") or None
        try:
            before_id = uuid.UUID(before) if before else None
        except ValueError:
            before_id = None
        page = selectors.audit_page(rows, before=before_id, size=self.page_size + 1)
        more = len(page) > self.page_size
        page = page[: self.page_size]
        query = request.GET.copy()
        query.pop("before", None)
        query.pop("format", None)
        context = self.get_context_data(
            form=form,
            entries=page,
            older=query.urlencode() + ("&" if query else "") + f"before={page[-1].pk}"
            if more and page
            else None,
            newest=query.urlencode() if before_id else None,
            export=query.urlencode(),
            status=400 if form.is_bound and not form.is_valid() else 200,
        )
        return self.render_to_response(context, status=context["status"])


def _audit_csv(org: Any, rows: Any) -> StreamingHttpResponse:
    """Every entry the filters select, streamed (an org's whole history fits in no page)."""

    class _Echo:
        def write(self, value: str) -> str:
            return value

    writer = csv.writer(_Echo())
    header = [
        _("When (UTC)"),
        _("Who"),
        _("From"),
        _("Address"),
        _("Action"),
        _("Object type"),
        _("Object id"),
        _("Object"),
        _("Changes"),
        _("Note"),
    ]

    def lines() -> Any:
        yield writer.writerow([str(h) for h in header])
        for entry in rows.iterator(chunk_size=500):
            yield writer.writerow(
                [
                    entry.created_at.astimezone(dt.UTC).isoformat(),
                    entry.actor_label,
                    entry.get_via_display(),
                    entry.ip_address or "",
                    audit.action_label(entry.action),
                    entry.object_type,
                    str(entry.object_id or ""),
                    entry.object_repr,
                    json.dumps(entry.changes, ensure_ascii=False, sort_keys=True),
                    entry.note,
                ]
            )

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="audit-{org.slug}-{stamp}.csv"'
    return response


class ApiKeysView(OrgViewMixin, TemplateView):
    template_name = "accounts/api_keys.html"
    capabilities = {"GET": "apikeys.manage", "HEAD": "apikeys.manage", "POST": "apikeys.manage"}
    model = ApiKey

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        keys = list(self.get_queryset().select_related("created_by"))
        for key in keys:
            # Same rule as the service: an owner-role key is only an owner's to revoke.
            key.revocable = key.revoked_at is None and can_change_holder(
                self.membership.role, key.role
            )
        context["keys"] = keys
        context["form"] = kwargs.get("form") or ApiKeyForm(granter_role=self.membership.role)
        context["created"] = kwargs.get("created")
        return context

    def post(self, request: OrgRequest) -> HttpResponse:
        form = ApiKeyForm(request.POST, granter_role=request.membership.role)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        created = services.api_key_create(
            org=request.org,
            name=form.cleaned_data["name"],
            role=form.cleaned_data["role"],
            created_by=request.user,
            granter_role=request.membership.role,
        )
        # Rendered, not redirected: the plain key must never travel in a URL or a session.
        response = self.render_to_response(self.get_context_data(created=created))
        response["Cache-Control"] = "no-store"
        return response


class ApiKeyRevokeView(OrgViewMixin, View):
    capabilities = {"POST": "apikeys.manage"}
    model = ApiKey

    def post(self, request: OrgRequest, pk: Any) -> HttpResponse:
        api_key = self.get_object()
        try:
            services.api_key_revoke(
                api_key=api_key, actor_role=request.membership.role, actor=request.user
            )
        except PermissionDenied as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, _("Key %(name)s revoked.") % {"name": api_key.name})
        return redirect("accounts:api_keys", org_slug=request.org.slug)


def locked_out(
    request: OrgRequest,
    original_response: HttpResponse | None = None,
    credentials: dict | None = None,
) -> HttpResponse:
    """django-axes' answer to a locked-out log-in: a page that says what to do next."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "accounts/locked_out.html", {"cooloff_minutes": minutes}, status=429)
