from __future__ import annotations

import secrets
import zoneinfo
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.ids import uuid7
from accounts.roles import Role, role_can
from accounts.tenancy import BaseModel, TenantManager, TenantModel, TenantQuerySet
from accounts.zones import token_digest


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


def timezone_choices() -> list[tuple[str, str]]:
    return [
        (name, name)
        for name in sorted(zoneinfo.available_timezones())
        if "/" in name or name == "UTC"
    ]


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        # Accounts made by the product's own paths (an accepted invitation, which proves the
        # address; the demo; create_org) are confirmed. Open sign-up passes None and mails
        # a confirmation link (accounts.services.sign_up_request).
        extra.setdefault("email_confirmed_at", now())
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        # E-mail addresses are matched case-insensitively, as people type them.
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    email = models.EmailField(_("e-mail address"), unique=True)
    display_name = models.CharField(_("display name"), max_length=120, blank=True)
    timezone = models.CharField(
        _("time zone"), max_length=64, default="UTC", validators=[validate_timezone]
    )
    language = models.CharField(
        _("language"),
        max_length=10,
        blank=True,
        choices=settings.LANGUAGES,
        help_text=_("Empty: follow the browser."),
    )
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=now)
    # None until the owner of the address opened the link mailed at sign-up; such an
    # account cannot log in. The link's token is stored as its digest only
    # (accounts.zones.token_digest), replaced by each new link and cleared once used.
    email_confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmation_digest = models.CharField(
        max_length=64, blank=True, default="", db_default="", db_index=True
    )
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.display_name or self.email.split("@")[0]

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()


class Organization(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("address"), max_length=60, unique=True)
    timezone = models.CharField(
        _("time zone"), max_length=64, default="UTC", validators=[validate_timezone]
    )
    # Per-organization knobs (health weights and thresholds, ...). Each app reads its own
    # key with defaults, so a missing key is never an error.
    settings = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MembershipQuerySet(TenantQuerySet["Membership"]):
    def for_user(self, user: User) -> MembershipQuerySet:
        """A person's own memberships across organizations (org switcher, home redirect):
        evaluated across organizations wherever it is (``accounts.rls``)."""
        return self.filter(user=user).across_orgs("membership")


class Membership(TenantModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MEMBER)

    objects = TenantManager.from_queryset(MembershipQuerySet)()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="membership_unique")
        ]
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization_id} ({self.role})"

    def can(self, capability: str) -> bool:
        return role_can(self.role, capability)


def _hash_secret(secret: str) -> str:
    return token_digest(secret)


class InvitationQuerySet(TenantQuerySet["Invitation"]):
    def pending(self) -> InvitationQuerySet:
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now())


class Invitation(TenantModel):
    email = models.EmailField(_("e-mail address"))
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager.from_queryset(InvitationQuerySet)()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation of {self.email}"

    @staticmethod
    def new_token() -> tuple[str, str]:
        token = secrets.token_urlsafe(32)
        return token, _hash_secret(token)

    @staticmethod
    def hash_token(token: str) -> str:
        return _hash_secret(token)

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= now()

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and not self.is_expired


API_KEY_PREFIX = "fu"


class ApiKeyQuerySet(TenantQuerySet["ApiKey"]):
    def active(self) -> ApiKeyQuerySet:
        return self.filter(revoked_at__isnull=True)


class ApiKey(TenantModel):
    """An organization's key for the REST API: bound to one org and one role.

    The plain key (``fu_<prefix>_<secret>``) is shown once; only its hash is stored. The
    prefix is kept in clear so people can tell keys apart and so lookup is one index hit.
    """

    name = models.CharField(_("name"), max_length=100)
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MEMBER)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager.from_queryset(ApiKeyQuerySet)()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API key")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @staticmethod
    def generate() -> tuple[str, str, str]:
        """Return (plain key, prefix, hash)."""
        prefix = secrets.token_hex(4)
        plain = f"{API_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
        return plain, prefix, _hash_secret(plain)

    @staticmethod
    def parse_prefix(plain: str) -> str | None:
        parts = plain.split("_", 2)
        if len(parts) != 3 or parts[0] != API_KEY_PREFIX or len(parts[1]) != 8:
            return None
        return parts[1]

    def matches(self, plain: str) -> bool:
        return secrets.compare_digest(self.key_hash, _hash_secret(plain))

    @property
    def masked(self) -> str:
        return f"{API_KEY_PREFIX}_{self.prefix}_…"

    def can(self, capability: str) -> bool:
        return role_can(self.role, capability)


class AuditQuerySet(TenantQuerySet["AuditEntry"]):
    def about(self, obj: models.Model) -> AuditQuerySet:
        """Entries about one object (its history panel)."""
        return self.filter(object_type=object_type_of(obj), object_id=obj.pk)


def object_type_of(obj: models.Model | type[models.Model]) -> str:
    """``app_label.model_name``: stable, and two apps' models of one name never collide."""
    meta = obj._meta
    return f"{meta.app_label}.{meta.model_name}"


class AuditEntry(TenantModel):
    """Who changed what, when and from where, in one organization (``accounts.audit``).

    Written by the service that makes the change, in its transaction; never changed or
    deleted afterwards (``save`` refuses an update). The actor's name is copied in
    (``actor_label``) so the trail still reads right after the person or key is gone.
    """

    class Via(models.TextChoices):
        WEB = "web", _("Web")
        API = "api", _("API")
        CLI = "cli", _("Command line")
        SYSTEM = "system", _("System")

    action = models.CharField(_("action"), max_length=64)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_api_key = models.ForeignKey(
        "accounts.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(_("who"), max_length=300, blank=True)
    via = models.CharField(_("from"), max_length=8, choices=Via.choices, default=Via.SYSTEM)
    ip_address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.UUIDField(null=True, blank=True)
    object_repr = models.CharField(pgettext_lazy("audit", "what"), max_length=300, blank=True)
    # {"field": [old, new]}; for a creation old is null, for a deletion new is null.
    changes = models.JSONField(default=dict, blank=True)
    note = models.CharField(max_length=300, blank=True)

    objects = TenantManager.from_queryset(AuditQuerySet)()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("audit entry")
        indexes = [
            models.Index(fields=["organization", "-created_at", "-id"], name="audit_org_time_idx"),
            models.Index(
                fields=["organization", "object_type", "object_id", "-created_at"],
                name="audit_object_idx",
            ),
            models.Index(fields=["organization", "action"], name="audit_org_action_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_label}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValueError("Audit entries are never changed once written.")
        super().save(*args, **kwargs)


__all__ = [
    "ApiKey",
    "AuditEntry",
    "BaseModel",
    "Invitation",
    "Membership",
    "Organization",
    "User",
]
