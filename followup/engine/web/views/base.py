"""What the engine pages share: capabilities, status badges, error text, going back."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.mixins import READ_ONLY
from accounts.requests import OrgRequest, safe_next
from followup.engine.models import (
    FollowUpStatus,
)

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
    return safe_next(request, default) or default


def _home(request: OrgRequest) -> str:
    return reverse("home", kwargs={"org_slug": request.org.slug})
