"""Models of the shared primitives: the event outbox, its deliveries to each subscriber,
and Idempotency-Key records.

Their tables keep the names they had when they lived in the follow-up engine app
(``followup_event``, ``followup_idempotencyrecord``); migration ``kernel.0001`` moved them
here without touching the database.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import TenantModel


class IdempotencyRecord(TenantModel):
    """The first response to a POST that carried an ``Idempotency-Key``.

    A row exists from the moment a request claims the key (``response_status`` is null
    while it runs), so a concurrent retry sees it and gets 409 instead of a second create.
    """

    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.BinaryField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "followup_idempotencyrecord"  # kept from when it lived in the engine app
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="idempotency_key_unique")
        ]

    def __str__(self) -> str:
        return self.key

    @property
    def in_flight(self) -> bool:
        return self.response_status is None


class Event(TenantModel):
    """The outbox: a domain change, recorded in the transaction that made it.

    Relayed after commit (``followup.kernel.events``) to subscribers such as webhooks and
    notifications; a row that was never relayed is picked up by the periodic relay, so a
    crash between commit and relay delays an event but never loses it.
    """

    type = models.CharField(max_length=64)  # "<resource>.<verb>", e.g. "touchpoint.created"
    subject_type = models.CharField(max_length=64, blank=True)
    subject_id = models.UUIDField(null=True, blank=True)
    payload = models.JSONField(default=dict)
    actor = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # When the event was handed out: one ``EventDelivery`` per subscriber that wants it.
    relayed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "followup_event"  # kept from when it lived in the engine app
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(relayed_at__isnull=True),
                name="event_unrelayed_idx",
            ),
            models.Index(fields=["organization", "type", "created_at"], name="event_org_type_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.subject_id}"


class EventDeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Done")
    FAILED = "failed", _("Failed")


class EventDelivery(TenantModel):
    """One event for one subscriber (by its stable name): done, waiting, or failing.

    Each subscriber of each event succeeds or fails on its own: a failure is recorded here
    with its error and retried with exponential backoff (``next_attempt_at``), so one
    broken subscriber or one poison event never holds up the others. The subscriber runs
    in the transaction that marks its delivery done, so what it writes commits exactly
    when the delivery does. Due deliveries are claimed like reminders
    (``followup.kernel.claims``); after ``events.MAX_ATTEMPTS`` a delivery is ``failed``
    and waits for an admin's retry.
    """

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    subscriber = models.CharField(max_length=100)
    status = models.CharField(
        max_length=16, choices=EventDeliveryStatus.choices, default=EventDeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim = models.UUIDField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["next_attempt_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "subscriber"], name="event_delivery_unique"),
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "succeeded", "failed"]),
                name="event_delivery_status_valid",
            ),
        ]
        indexes = [
            # What a relay tick scans: pending deliveries that are due.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="event_delivery_due_idx",
            ),
            models.Index(
                fields=["claim"],
                condition=models.Q(claim__isnull=False),
                name="event_delivery_claim_idx",
            ),
            # What the admins' page lists: the organization's failing deliveries.
            models.Index(
                fields=["organization", "status", "last_attempt_at"],
                condition=models.Q(attempts__gt=0) & ~models.Q(status="succeeded"),
                name="event_delivery_failing_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subscriber} of {self.event_id}"
