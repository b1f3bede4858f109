"""State changes of accounts: one keyword-only function each, one transaction each."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from accounts import apikey_cache, audit, departures, rls, selectors
from accounts.departures import Departure, Tally
from accounts.identity import normalize_identifier
from accounts.models import ApiKey, Invitation, Membership, Organization, User
from accounts.roles import Role, can_change_holder, can_grant, role_can
from accounts.zones import token_digest

logger = logging.getLogger(__name__)

RESERVED_SLUGS = {"new", "admin", "api", "static", "accounts", "invitations", "o"}


def _unique_slug(name: str) -> str:
    base = (slugify(name) or "org")[:50].strip("-") or "org"
    slug, n = base, 1
    while slug in RESERVED_SLUGS or Organization.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def organization_create(
    *, name: str, owner: User, timezone_name: str | None = None
) -> Organization:
    org = Organization.objects.create(
        name=name.strip(),
        slug=_unique_slug(name),
        timezone=timezone_name or owner.timezone or "UTC",
    )
    with rls.org_context(org):  # the new organization's first rows
        Membership.objects.create(organization=org, user=owner, role=Role.OWNER)
        audit.record(org=org, action="organization.created", actor=owner, obj=org)
    return org


@transaction.atomic
def user_sign_up(
    *,
    email: str,
    password: str,
    display_name: str,
    organization_name: str,
    timezone_name: str = "UTC",
    language: str = "",
) -> tuple[User, Organization]:
    user = User.objects.create_user(
        email=email,
        password=password,
        display_name=display_name,
        timezone=timezone_name,
        language=language,
    )
    org = organization_create(name=organization_name, owner=user, timezone_name=timezone_name)
    return user, org


class ConfirmationInvalid(Exception):
    """The confirmation link is unknown or was already used."""


class ConfirmationExpired(Exception):
    """The confirmation link is known but older than ``SIGNUP_CONFIRMATION_TTL``."""


class ConfirmationPasswordWrong(Exception):
    """The password given with a confirmation link is not the account's (the latest
    sign-up's): the link stays usable."""


def _mail(user: User, subject: str, template: str, context: dict[str, object]) -> None:
    with translation.override(user.language or settings.LANGUAGE_CODE):
        text = render_to_string(template, {"user": user, **context})
        subject = str(_(subject))
    try:
        EmailMultiAlternatives(subject, text, to=[user.email]).send()
    except Exception:  # the page answers the same whatever the mail server does
        logger.exception("Could not send a sign-up mail")


def _mail_confirmation(user: User, token: str) -> None:
    hours = int(settings.SIGNUP_CONFIRMATION_TTL.total_seconds() // 3600)
    url = settings.BASE_URL + reverse("accounts:signup_confirm", kwargs={"token": token})
    _mail(
        user,
        gettext_noop("Confirm your e-mail address for Followup"),
        "accounts/email/signup_confirm.txt",
        {"confirm_url": url, "hours": hours},
    )


def _mail_existing(user: User) -> None:
    _mail(
        user,
        gettext_noop("Someone tried to sign up to Followup with your address"),
        "accounts/email/signup_existing.txt",
        {
            "login_url": settings.BASE_URL + reverse("accounts:login"),
            "reset_url": settings.BASE_URL + reverse("accounts:password_reset"),
        },
    )


def _new_confirmation(user: User) -> str:
    """A fresh one-time link for ``user`` (locked by the caller); the previous one stops
    working. Only the token's digest is stored."""
    token = secrets.token_urlsafe(32)
    user.confirmation_digest = token_digest(token)
    user.confirmation_sent_at = timezone.now()
    user.save(update_fields=["confirmation_digest", "confirmation_sent_at"])
    return token


def sign_up_request(
    *,
    email: str,
    password: str,
    display_name: str,
    timezone_name: str = "UTC",
    language: str = "",
) -> None:
    """Open sign-up. It answers nothing, so the page cannot tell addresses apart:

    - a new address gets an unconfirmed account and a one-time, expiring link that
      confirms it (``sign_up_confirm``); the account cannot log in before;
    - an address whose account is still unconfirmed gets a new link, and this sign-up's
      password and name replace the earlier ones (the last sign-up is the one confirmed);
    - a confirmed address is left alone and its owner is mailed that someone tried, with
      the ways in (log in, reset the password).

    Each path hashes the password once, so their timings match too."""
    email = normalize_identifier(email)
    with transaction.atomic():
        user = User.objects.select_for_update().filter(email__iexact=email).first()
        if user is not None and user.email_confirmed_at is not None:
            make_password(password)  # the same work as the other paths
            known = user
            transaction.on_commit(lambda: _mail_existing(known), robust=True)
            return
        if user is None:
            try:
                with transaction.atomic():
                    user = User.objects.create_user(
                        email=email,
                        password=password,
                        display_name=display_name,
                        timezone=timezone_name,
                        language=language,
                        email_confirmed_at=None,
                    )
            except IntegrityError:  # the same address signed up at the same moment
                return
        else:
            user.set_password(password)
            user.display_name = display_name
            user.timezone = timezone_name
            user.language = language
            user.save(update_fields=["password", "display_name", "timezone", "language"])
        token = _new_confirmation(user)
        pending = user
        transaction.on_commit(lambda: _mail_confirmation(pending, token), robust=True)


def sign_up_resend(*, email: str) -> None:
    """A new confirmation link for an unconfirmed account; nothing for any other address
    (the page answers the same)."""
    email = normalize_identifier(email)
    with transaction.atomic():
        user = (
            User.objects.select_for_update()
            .filter(email__iexact=email, email_confirmed_at__isnull=True, is_active=True)
            .first()
        )
        if user is None:
            return
        token = _new_confirmation(user)
        transaction.on_commit(lambda: _mail_confirmation(user, token), robust=True)


def _confirmation_user(token: str, *, lock: bool = False) -> User:
    queryset = User.objects.select_for_update() if lock else User.objects.all()
    user = queryset.filter(
        confirmation_digest=token_digest(token), email_confirmed_at__isnull=True
    ).first()
    if user is None or user.confirmation_sent_at is None:
        raise ConfirmationInvalid
    if user.confirmation_sent_at + settings.SIGNUP_CONFIRMATION_TTL < timezone.now():
        raise ConfirmationExpired
    return user


def sign_up_confirmation_check(*, token: str) -> User:
    """The account a confirmation link would confirm, without using the link; raises
    ``ConfirmationInvalid`` or ``ConfirmationExpired``."""
    return _confirmation_user(token)


@transaction.atomic
@transaction.atomic
def sign_up_confirm(*, token: str, password: str) -> User:
    """Use a confirmation link once: the address is confirmed and the link dies.

    The password of the sign-up must come with the link. Whoever reads the mailbox then
    also knows the password the account will have: a stranger who signed up with the same
    address (before or after its owner) cannot have their password confirmed by the owner's
    click and log in later (account pre-hijacking). An owner who does not know the latest
    sign-up's password resets it, which confirms the address too."""
    user = _confirmation_user(token, lock=True)
    if not user.check_password(password):
        raise ConfirmationPasswordWrong
    user.email_confirmed_at = timezone.now()
    user.confirmation_digest = ""
    user.save(update_fields=["email_confirmed_at", "confirmation_digest"])
    return user


def email_confirmed_by_reset(*, user: User) -> None:
    """A password reset went through the link mailed to the address: that proves it too,
    and the reset password replaces any an earlier sign-up chose."""
    if user.email_confirmed_at is None:
        User.objects.filter(pk=user.pk, email_confirmed_at__isnull=True).update(
            email_confirmed_at=timezone.now(), confirmation_digest=""
        )


def _require(actor: Membership | ApiKey, capability: str) -> None:
    if not actor.can(capability):
        raise PermissionDenied(_("Your role does not allow this."))


# --- Invitations ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SentInvitation:
    invitation: Invitation
    url: str


def invitation_send(*, actor: Membership, email: str, role: str) -> SentInvitation:
    _require(actor, "members.manage")
    if not can_grant(actor.role, role):
        raise ValidationError({"role": _("You cannot invite someone with a role above your own.")})
    email = normalize_identifier(email)
    org = actor.organization
    if Membership.objects.for_org(org).filter(user__email__iexact=email).exists():
        raise ValidationError({"email": _("%(email)s is already a member.") % {"email": email}})
    token, token_hash = Invitation.new_token()
    with transaction.atomic():
        # A fresh invitation replaces any still-pending one for the same address.
        Invitation.objects.for_org(org).pending().filter(email__iexact=email).update_versioned(
            revoked_at=timezone.now()
        )
        invitation = Invitation.objects.create(
            organization=org,
            email=email,
            role=role,
            token_hash=token_hash,
            invited_by=actor.user,
            expires_at=timezone.now() + settings.INVITATION_TTL,
        )
        audit.record(
            org=org,
            action="invitation.sent",
            actor=actor.user,
            obj=invitation,
            changes={"email": [None, email], "role": [None, role]},
        )
    url = settings.BASE_URL + reverse("accounts:invitation_accept", kwargs={"token": token})
    transaction.on_commit(lambda: _mail_invitation(invitation, url), robust=True)
    return SentInvitation(invitation=invitation, url=url)


def _mail_invitation(invitation: Invitation, url: str) -> None:
    inviter = invitation.invited_by
    # The invitee has no account yet, so the inviter's language is the best guess.
    with translation.override(
        inviter.language if inviter and inviter.language else settings.LANGUAGE_CODE
    ):
        context = {
            "invitation": invitation,
            "url": url,
            "inviter": inviter,
            "organization": invitation.organization,
        }
        subject = _("%(name)s invited you to %(org)s on Followup") % {
            "name": inviter.name if inviter else "Followup",
            "org": invitation.organization.name,
        }
        text = render_to_string("accounts/email/invitation.txt", context)
        html = render_to_string("accounts/email/invitation.html", context)
    message = EmailMultiAlternatives(subject, text, to=[invitation.email])
    message.attach_alternative(html, "text/html")
    message.send()


def invitation_revoke(*, actor: Membership, invitation: Invitation) -> None:
    _require(actor, "members.manage")
    if invitation.organization_id != actor.organization_id:
        raise PermissionDenied
    with transaction.atomic():
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit.record(
            org=invitation.organization,
            action="invitation.revoked",
            actor=actor.user,
            obj=invitation,
        )


def invitation_by_token(token: str) -> Invitation | None:
    # The token is the credential here, so the lookup is cross-tenant by nature.
    return (
        Invitation.objects.dangerously_unscoped()
        .across_orgs("invitation token")
        .select_related("organization", "invited_by")
        .filter(token_hash=Invitation.hash_token(token))
        .first()
    )


@transaction.atomic
@rls.as_org_of("invitation")
def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    invitation = (
        Invitation.objects.for_org(invitation.organization)
        .select_for_update()
        .get(pk=invitation.pk)
    )
    if not invitation.is_pending:
        raise ValidationError(_("This invitation is no longer valid."))
    if normalize_identifier(user.email) != normalize_identifier(invitation.email):
        raise ValidationError(_("This invitation was sent to another e-mail address."))
    membership, _created = Membership.objects.for_org(invitation.organization).get_or_create(
        organization=invitation.organization, user=user, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit.record(
        org=invitation.organization,
        action="member.joined",
        actor=user,
        obj=membership,
        object_repr=f"{user.name} <{user.email}>",
        changes={"role": [None, membership.role]},
    )
    return membership


def invitations_expire() -> int:
    """Drop invitations that expired over a month ago (they stay visible for a while)."""
    cutoff = timezone.now() - settings.INVITATION_TTL - timedelta(days=30)
    with rls.cross_tenant("expired rows cleanup"):
        deleted, _rows = (
            Invitation.objects.dangerously_unscoped()
            .filter(accepted_at__isnull=True, expires_at__lt=cutoff)
            .delete()
        )
    return deleted


# --- Members -------------------------------------------------------------------------------


def _owners_left(org: Organization, excluding: Membership) -> int:
    return Membership.objects.for_org(org).filter(role=Role.OWNER).exclude(pk=excluding.pk).count()


@transaction.atomic
def membership_change_role(*, actor: Membership, membership: Membership, role: str) -> Membership:
    _require(actor, "members.manage")
    org = actor.organization
    # Lock the org's owner rows so two admins cannot each demote "the other last owner".
    list(Membership.objects.for_org(org).filter(role=Role.OWNER).select_for_update())
    membership = Membership.objects.for_org(org).select_for_update().get(pk=membership.pk)
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    if not can_change_holder(actor.role, membership.role):
        raise PermissionDenied(_("Only an owner can change an owner's role."))
    if not can_grant(actor.role, role):
        raise PermissionDenied(_("You cannot give a role above your own."))
    if membership.role == Role.OWNER and role != Role.OWNER and _owners_left(org, membership) == 0:
        raise ValidationError(_("The last owner cannot be demoted. Make someone else owner first."))
    old_role = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    if old_role != role:
        audit.record(
            org=org,
            action="member.role_changed",
            actor=actor.user,
            obj=membership,
            object_repr=f"{membership.user.name} <{membership.user.email}>",
            changes={"role": [old_role, role]},
        )
    return membership


@dataclass(frozen=True)
class Removal:
    person: User
    successor: User | None
    tallies: list[Tally]  # what was done, per app (accounts.departures)


@transaction.atomic
def membership_remove(
    *, actor: Membership | ApiKey, membership: Membership, successor: User | None
) -> Removal:
    """Remove a member, or leave (``membership`` is the actor's own).

    ``successor`` takes over the person's open work: their open follow-ups and what they own
    in other apps (customers, engagements); ``None`` cancels the follow-ups and leaves the
    records without an owner. Every app's departure hook (``accounts.departures``) runs in
    this transaction once the membership is gone: the person leaves with everything handed
    over, their own settings and addresses deleted and the API keys they created revoked,
    or does not leave at all. ``actor`` is a person's membership or the calling API key.
    """
    org = actor.organization
    leaving_self = isinstance(actor, Membership) and membership.pk == actor.pk
    if not leaving_self:
        _require(actor, "members.manage")
    list(Membership.objects.for_org(org).filter(role=Role.OWNER).select_for_update().order_by("pk"))
    membership = (
        Membership.objects.for_org(org)
        .select_for_update()
        .select_related("user")
        .get(pk=membership.pk)
    )
    if membership.role == Role.OWNER:
        if not leaving_self and not can_change_holder(actor.role, membership.role):
            raise PermissionDenied(_("Only an owner can remove an owner."))
        if _owners_left(org, membership) == 0:
            raise ValidationError(
                _("The last owner cannot be removed. Make someone else owner first.")
            )
    person = membership.user
    if successor is not None:
        _check_successor(org, person, successor)
    acting = actor.user if isinstance(actor, Membership) else None
    membership_id, role = membership.pk, membership.role
    membership.delete()
    departure = Departure(org=org, person=person, successor=successor, actor=acting)
    tallies = departures.run(departure)
    audit.record(
        org=org,
        action="member.left" if leaving_self else "member.removed",
        actor=acting,
        object_type="accounts.membership",
        object_id=membership_id,
        object_repr=f"{person.name} <{person.email}>",
        changes={
            "role": [role, None],
            "handed_over_to": [None, successor.email if successor else None],
        },
        note="; ".join(t.text for t in tallies)[:300],
    )
    return Removal(person=person, successor=successor, tallies=tallies)


def _check_successor(org: Organization, person: User, successor: User) -> None:
    # Locked, so that the successor cannot be removed while their new work is handed over.
    row = Membership.objects.for_org(org).select_for_update().filter(user=successor).first()
    if (
        successor.pk == person.pk
        or row is None
        or row.role not in selectors.SUCCESSOR_ROLES
        or not successor.is_active
    ):
        raise ValidationError(
            {"successor": _("Choose another member of this organization who can edit records.")}
        )


def api_keys_held(org: Organization, person: User) -> list[Tally]:
    """The departure hook's count: active keys ``person`` created (they will be revoked)."""
    count = ApiKey.objects.for_org(org).active().filter(created_by=person).count()
    text = ngettext(
        "%(count)d API key created with this account (to be revoked)",
        "%(count)d API keys created with this account (to be revoked)",
        count,
    )
    return [Tally("api_keys", count, text % {"count": count})]


def api_keys_revoke_of(departure: Departure) -> list[Tally]:
    """The departure hook: a key the person created would go on acting for them."""
    count = (
        ApiKey.objects.for_org(departure.org)
        .active()
        .filter(created_by=departure.person)
        .update_versioned(revoked_at=timezone.now())
    )
    apikey_cache.bump()  # a bulk update sends no post_save: the processes must know
    text = ngettext(
        "%(count)d API key created with this account was revoked",
        "%(count)d API keys created with this account were revoked",
        count,
    )
    return [Tally("api_keys_revoked", count, text % {"count": count})]


# --- API keys ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreatedApiKey:
    api_key: ApiKey
    plain: str


def api_key_create(
    *, org: Organization, name: str, role: str, created_by: User | None, granter_role: str | None
) -> CreatedApiKey:
    """Create a key. ``granter_role`` is the creator's role (None for the CLI, which is trusted);
    it may give a key only a role it could give a person (``roles.can_grant``)."""
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    if granter_role is not None and not can_grant(granter_role, role):
        raise ValidationError({"role": _("You cannot create a key with a role above your own.")})
    for _attempt in range(3):
        plain, prefix, key_hash = ApiKey.generate()
        try:
            with transaction.atomic():
                api_key = ApiKey.objects.create(
                    organization=org,
                    name=name.strip() or _("API key"),
                    role=role,
                    prefix=prefix,
                    key_hash=key_hash,
                    created_by=created_by,
                )
                audit.record(
                    org=org,
                    action="api_key.created",
                    actor=created_by,
                    obj=api_key,
                    changes={"name": [None, api_key.name], "role": [None, role]},
                )
            return CreatedApiKey(api_key=api_key, plain=plain)
        except IntegrityError:  # a prefix collision (1 in 4 billion): draw again
            continue
    raise RuntimeError("Could not generate a unique API key prefix")


def _require_can_change_key(actor_role: str, api_key: ApiKey) -> None:
    if not role_can(actor_role, "apikeys.manage"):
        raise PermissionDenied(_("Your role does not allow this."))
    if not can_change_holder(actor_role, api_key.role):
        raise PermissionDenied(_("Only an owner can change or revoke a key with the owner role."))


@transaction.atomic
def api_key_update(
    *,
    api_key: ApiKey,
    actor_role: str,
    name: str | None = None,
    role: str | None = None,
    actor: User | None = None,
) -> ApiKey:
    """Rename a key or change its role, as someone with ``actor_role`` (a person's or the
    calling key's). Checked against the row as it is now, under its lock."""
    api_key = ApiKey.objects.for_org(api_key.organization).select_for_update().get(pk=api_key.pk)
    _require_can_change_key(actor_role, api_key)
    old = {"name": api_key.name, "role": api_key.role}
    changed = []
    if name is not None and name.strip() and name.strip() != api_key.name:
        api_key.name = name.strip()
        changed.append("name")
    if role is not None and role != api_key.role:
        if role not in Role.values:
            raise ValidationError({"role": _("Unknown role.")})
        if not can_grant(actor_role, role):
            raise ValidationError({"role": _("You cannot give a key a role above your own.")})
        api_key.role = role
        changed.append("role")
    if changed:
        api_key.save(update_fields=changed)
        audit.record(
            org=api_key.organization,
            action="api_key.updated",
            actor=actor,
            obj=api_key,
            changes=audit.diff(old, {"name": api_key.name, "role": api_key.role}),
        )
    return api_key


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, actor_role: str, actor: User | None = None) -> ApiKey:
    """Revoke a key (it stops working on the next request), as someone with ``actor_role``."""
    api_key = ApiKey.objects.for_org(api_key.organization).select_for_update().get(pk=api_key.pk)
    _require_can_change_key(actor_role, api_key)
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        audit.record(org=api_key.organization, action="api_key.revoked", actor=actor, obj=api_key)
    return api_key


def api_key_authenticate(plain: str, *, stamp: Any = apikey_cache.UNREADABLE) -> ApiKey | None:
    """The active key ``plain`` names, or None; ``last_used_at`` is written once a minute at
    most. ``stamp`` is the shared API key stamp read at the start of the request: with it,
    the key this process remembers is used (``accounts.apikey_cache``), without it (the
    shared cache is down) the key is looked up."""
    return apikey_cache.keys.lookup(plain, stamp=stamp)


@transaction.atomic
def organization_update(*, actor: Membership, name: str, timezone_name: str) -> Organization:
    _require(actor, "org.manage")
    org = Organization.objects.select_for_update().get(pk=actor.organization_id)
    before = {"name": org.name, "timezone": org.timezone}
    org.name = name.strip()
    org.timezone = timezone_name
    org.full_clean()
    org.save(update_fields=["name", "timezone"])
    changes = audit.diff(before, {"name": org.name, "timezone": org.timezone})
    if changes:
        audit.record(
            org=org, action="organization.updated", actor=actor.user, obj=org, changes=changes
        )
    return org
