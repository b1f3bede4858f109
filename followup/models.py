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
