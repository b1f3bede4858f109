"""Models of the follow-up engine: follow-ups, reminders, notifications, calendar feeds,
webhooks. (The outbox and idempotency records are shared primitives: ``followup.kernel``.)
"""

from __future__ import annotations

from django.contrib.contenttypes.fields import GenericForeignKey
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts import inputs
from accounts.tenancy import TenantModel


class Notification(TenantModel):
    """Something a person should see: in the app, and by e-mail if they chose so.

    The text is rendered when shown, from ``kind`` and ``params``, in the reader's language
    (``followup.engine.notifications.KINDS``), so a notification never freezes the sender's
    language.
    """

    recipient = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=64)
    params = models.JSONField(default=dict, blank=True)
    url = models.CharField(max_length=500, blank=True)
    subject_type = models.CharField(max_length=64, blank=True)
    subject_id = models.UUIDField(null=True, blank=True)
    # Same key, same recipient: one notification, however often the cause is seen again.
    dedupe_key = models.CharField(max_length=200, null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # E-mail of this notification, when the recipient wants it (``followup.engine.notifications``):
    # pending until a sender claims it in the transaction that sends it.
    email_pending = models.BooleanField(default=False)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "recipient", "dedupe_key"],
                name="notification_dedupe_unique",
            )
        ]
        indexes = [
            models.Index(
                fields=["recipient", "organization", "created_at"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread_idx",
            ),
            models.Index(
                fields=["created_at"],
                condition=models.Q(email_pending=True),
                name="notification_email_pending_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id}"


# --- The follow-up engine ---------------------------------------------------------------


class FollowUpStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    SKIPPED = "skipped", _("Skipped")
    CANCELLED = "cancelled", _("Cancelled")


# Legal moves, as data (DESIGN.md: Oscar's pipeline). ``services`` refuses the others.
# Done and skipped are final: they may have produced the next occurrence of a series.
TRANSITIONS: dict[str, frozenset[str]] = {
    FollowUpStatus.OPEN: frozenset(
        {FollowUpStatus.DONE, FollowUpStatus.SKIPPED, FollowUpStatus.CANCELLED}
    ),
    FollowUpStatus.CANCELLED: frozenset({FollowUpStatus.OPEN}),
    FollowUpStatus.DONE: frozenset(),
    FollowUpStatus.SKIPPED: frozenset(),
}


class Priority(models.IntegerChoices):
    LOW = 1, _("Low")
    NORMAL = 2, _("Normal")
    HIGH = 3, _("High")


def default_reminder_offsets() -> list[int]:
    return [0]


class FollowUp(TenantModel):
    """A next action someone owes: on a subject (any registered model) or standing alone.

    A recurring follow-up is a series of rows (``series_id``, ``sequence``): completing or
    skipping the open one creates the next, exactly once (a conditional status update and
    a unique (series, sequence) pair). ``occurrence_at`` is when the rule scheduled this
    occurrence; ``due_at`` is when it is due now (a snooze moves ``due_at`` only, so the
    cadence does not drift).

    Reminder state lives here, not in the broker: ``next_remind_at`` is the next moment a
    reminder is owed (partial index), ``remind_claimed_at``/``remind_claim`` mark a tick's
    claim on it (``followup.engine.reminders``).
    """

    title = models.CharField(_("title"), max_length=200)
    notes = models.TextField(_("notes"), blank=True)
    owner = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="followups", verbose_name=_("owner")
    )
    due_at = models.DateTimeField(_("due"))
    status = models.CharField(
        _("status"), max_length=16, choices=FollowUpStatus.choices, default=FollowUpStatus.OPEN
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    # The subject, through the registry of ``followup.kernel.subjects`` (generic, so the core does
    # not import the domain apps).
    subject_type = models.ForeignKey(
        "contenttypes.ContentType",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    subject_id = models.UUIDField(null=True, blank=True)
    subject = GenericForeignKey("subject_type", "subject_id")
    # What answered it (a touchpoint of engagements/), by type label and id.
    answered_by_type = models.CharField(max_length=64, blank=True)
    answered_by_id = models.UUIDField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    # Recurrence: an RRULE subset (``followup.engine.calc.recurrence``) read in the owner's
    # time zone from ``recurrence_start`` (a local date) at ``recurrence_time`` (a local time).
    recurrence = models.CharField(_("cadence"), max_length=255, blank=True)
    recurrence_start = models.DateField(null=True, blank=True)
    recurrence_time = models.TimeField(null=True, blank=True)
    series_id = models.UUIDField(null=True, blank=True)
    sequence = models.PositiveIntegerField(default=0)
    occurrence_at = models.DateTimeField(null=True, blank=True)
    previous = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    # Reminders: minutes before ``due_at`` (0 = at due time).
    reminder_offsets = models.JSONField(default=default_reminder_offsets, blank=True)
    next_remind_at = models.DateTimeField(null=True, blank=True)
    next_remind_offset = models.IntegerField(null=True, blank=True)
    remind_claimed_at = models.DateTimeField(null=True, blank=True)
    remind_claim = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["series_id", "sequence"],
                condition=models.Q(series_id__isnull=False),
                name="followup_series_sequence_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["open", "done", "skipped", "cancelled"]),
                name="followup_status_valid",
            ),
            # The supported range of instants (accounts.inputs): pages, feeds and cadences
            # can shift any stored due time by a zone or a step without overflowing.
            models.CheckConstraint(
                condition=models.Q(due_at__gte=inputs.EARLIEST, due_at__lt=inputs.END),
                name="followup_due_at_in_range",
            ),
        ]
        indexes = [
            # What a reminder tick scans: open follow-ups with a reminder owed.
            models.Index(
                fields=["next_remind_at"],
                condition=models.Q(status="open", next_remind_at__isnull=False),
                name="followup_remind_due_idx",
            ),
            models.Index(
                fields=["remind_claim"],
                condition=models.Q(remind_claim__isnull=False),
                name="followup_remind_claim_idx",
            ),
            models.Index(
                fields=["organization", "owner", "status", "due_at"], name="followup_owner_due_idx"
            ),
            models.Index(
                fields=["organization", "subject_type", "subject_id"],
                name="followup_subject_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_recurring(self) -> bool:
        return bool(self.recurrence)

    @property
    def is_open(self) -> bool:
        return self.status == FollowUpStatus.OPEN


class Channel(models.TextChoices):
    IN_APP = "in_app", _("In the app")
    EMAIL = "email", _("E-mail")
    # Not a person's channel: the ``followup.due`` event of the outbox, sent once per
    # occurrence at due time through the same exactly-once delivery rows.
    EVENT = "event", _("Event")


class ReminderDelivery(TenantModel):
    """One reminder sent: at most one per (occurrence, due time, offset, channel).

    The unique constraint is what makes a second send impossible: the sender inserts this
    row and sends in one transaction, so a crash rolls both back and a retry starts clean.
    ``due_at`` is part of the key because a snooze starts a new round of reminders.
    """

    followup = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="deliveries")
    due_at = models.DateTimeField()
    offset_minutes = models.IntegerField()
    channel = models.CharField(max_length=16, choices=Channel.choices)
    recipient = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["followup", "due_at", "offset_minutes", "channel"],
                name="reminder_delivery_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel} reminder of {self.followup_id} at -{self.offset_minutes}m"


class EmailMode(models.TextChoices):
    OFF = "off", _("No e-mail")
    INSTANT = "instant", _("Each one by e-mail")
    DIGEST = "digest", _("Daily digest at 08:00")


class NotificationPreference(TenantModel):
    """A person's choice per kind of notification: in the app, by e-mail, or in a digest.

    No row means the kind's defaults (``followup.engine.notifications.KINDS``).
    """

    user = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=64)
    in_app = models.BooleanField(_("in the app"), default=True)
    email = models.CharField(
        _("e-mail"), max_length=16, choices=EmailMode.choices, default=EmailMode.INSTANT
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user", "kind"], name="notification_preference_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}"


class DigestDelivery(TenantModel):
    """The daily digest of one person for one local date: sent at most once."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    local_date = models.DateField()
    item_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user", "local_date"], name="digest_delivery_unique"
            )
        ]

    def __str__(self) -> str:
        return f"digest {self.user_id} {self.local_date}"


class CalendarFeed(TenantModel):
    """A person's secret iCalendar address for one organization.

    Only a hash of the token is stored; revoking sets ``revoked_at`` and a new feed gets a
    new token, so an old address stops working at once.
    """

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user"],
                condition=models.Q(revoked_at__isnull=True),
                name="calendar_feed_one_active",
            )
        ]

    def __str__(self) -> str:
        return f"calendar of {self.user_id}"


class WebhookEndpoint(TenantModel):
    """Where an organization wants its events POSTed (Standard Webhooks).

    The secret signs every delivery, so it is kept (not hashed); it is shown to people
    once, when the endpoint is created or the secret is rotated.
    """

    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    event_types = models.JSONField(_("event types"), default=list)
    secret = models.CharField(max_length=100, editable=False)
    enabled = models.BooleanField(_("enabled"), default=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str) -> bool:
        return self.enabled and event_type in (self.event_types or [])


class WebhookDeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Delivered")
    FAILED = "failed", _("Failed")


class WebhookDelivery(TenantModel):
    """One event for one endpoint: the exact body, its ``webhook-id``, and its retries."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(
        "kernel.Event", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    event_type = models.CharField(max_length=64)
    message_id = models.CharField(max_length=64)
    body = models.TextField()
    status = models.CharField(
        max_length=16, choices=WebhookDeliveryStatus.choices, default=WebhookDeliveryStatus.PENDING
    )
    attempt_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim = models.UUIDField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event"],
                condition=models.Q(event__isnull=False),
                name="webhook_delivery_event_unique",
            )
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="webhook_delivery_due_idx",
            ),
            models.Index(
                fields=["claim"], condition=models.Q(claim__isnull=False), name="webhook_claim_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.message_id}"


class WebhookAttempt(TenantModel):
    """One HTTP attempt of a delivery, as the delivery log shows it."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    replay = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}"

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


# --- Daily use: saved views of lists ----------------------------------------------------------


class SavedFilter(TenantModel):
    """A person's named view of a list: its query string (filters and sort), kept per
    person per organization. ``list_key`` names a list registered in
    ``followup.engine.lists`` (follow-ups, customers, team, notifications, ...)."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    list_key = models.CharField(max_length=40)
    name = models.CharField(_("name"), max_length=80)
    query = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user", "list_key", "name"],
                name="saved_filter_name_unique",
            )
        ]
        indexes = [
            models.Index(fields=["organization", "user", "list_key"], name="saved_filter_list_idx")
        ]

    def __str__(self) -> str:
        return self.name


class BulkChange(TenantModel):
    """One bulk action of one person (complete, snooze, reassign many follow-ups; change the
    owner of many customers), kept a few minutes so that it can be undone exactly.

    ``items`` holds, per changed row, its id, the values before and after the action and
    what the action created (the next occurrence of a completed cadence). ``scope`` names
    the app's undo handler (``followup.engine.bulk.register_scope``).
    """

    actor = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=32)
    action = models.CharField(max_length=32)
    count = models.PositiveIntegerField(default=0)
    items = models.JSONField(default=list)
    expires_at = models.DateTimeField()
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organization", "expires_at"], name="bulk_change_expiry_idx")
        ]

    def __str__(self) -> str:
        return f"{self.scope}.{self.action} x{self.count}"


# --- Comments on any subject ------------------------------------------------------------------


class Comment(TenantModel):
    """A comment on any registered subject (``followup.kernel.subjects``): a customer, an
    engagement, a follow-up, and whatever later apps register (projects, work items, risks).

    Plain text; the page escapes it, keeps its line breaks and links its URLs. Edits keep the
    earlier text (``CommentRevision``); a deletion keeps the row and says who deleted it, so
    a thread still reads as it happened. ``mentions`` are the ids of the members the text
    names with ``@`` (each is notified once per comment, also when an edit adds them).
    """

    subject_type = models.CharField(max_length=64)  # a key of the subject registry
    subject_id = models.UUIDField()
    author = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # An API key without a person writes as itself.
    api_key = models.ForeignKey(
        "accounts.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_label = models.CharField(max_length=200, blank=True)
    body = models.TextField(_("comment"))
    mentions = models.JSONField(default=list, blank=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["organization", "subject_type", "subject_id", "created_at"],
                name="comment_subject_idx",
            )
        ]

    def __str__(self) -> str:
        return f"comment on {self.subject_type} {self.subject_id}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class CommentRevision(TenantModel):
    """The text of a comment before one of its edits (``created_at``: when it was replaced)."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="revisions")
    body = models.TextField()
    edited_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"revision of {self.comment_id}"
