"""Models of the follow-up core."""

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

    Relayed after commit (``followup.events``) to subscribers such as webhooks and
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


class Notification(TenantModel):
    """Something a person should see: in the app, and by e-mail if they chose so.

    The text is rendered when shown, from ``kind`` and ``params``, in the reader's language
    (``followup.notifications.KINDS``), so a notification never freezes the sender's language.
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
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id}"
