"""Models of the shared primitives: the event outbox and Idempotency-Key records.

Their tables keep the names they had when they lived in the follow-up engine app
(``followup_event``, ``followup_idempotencyrecord``); migration ``kernel.0001`` moved them
here without touching the database.
"""

from __future__ import annotations

from django.db import models

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
