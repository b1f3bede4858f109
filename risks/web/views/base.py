"""What the risk register's pages share: capabilities, badges, a row's subject."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext as _

from risks import selectors
from risks.models import Risk, RiskStatus

VIEW = {"GET": "records.view", "HEAD": "records.view"}
EDIT = {"GET": "records.edit", "HEAD": "records.edit", "POST": "records.edit"}
POST_EDIT = {"POST": "records.edit"}
ADMIN_EDITS = {**VIEW, "POST": "org.manage"}
PAGE_SIZE = 50
LEVEL_BADGE = {"low": "green", "medium": "amber", "high": "red"}
STATUS_BADGE = {RiskStatus.OPEN: "neutral", RiskStatus.OCCURRED: "red", RiskStatus.CLOSED: "plain"}
AP_BADGE = {"H": "red", "M": "amber", "L": "green"}


def _errors_into(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _url(org_slug: str, name: str, **kwargs: Any) -> str:
    return reverse(f"risks:{name}", kwargs={"org_slug": org_slug, **kwargs})


def decorate(risk: Risk, settings: selectors.RiskSettings) -> dict[str, Any]:
    """What a row shows beside the risk itself (no query)."""
    return {
        "r": risk,
        "level_badge": LEVEL_BADGE.get(risk.level, "neutral"),
        "residual_badge": LEVEL_BADGE.get(risk.residual_level, "neutral"),
        "status_badge": STATUS_BADGE.get(RiskStatus(risk.status), "neutral"),
        "ap_badge": AP_BADGE.get(risk.action_priority, "neutral"),
        "category": settings.category_name(risk.category) if risk.category else "",
        "subject": subject_text(risk),
        "subject_url": subject_url(risk),
    }


def subject_text(risk: Risk) -> str:
    if risk.work_item is not None and risk.project is not None:
        return f"{risk.project.code} {risk.work_item.wbs_code} {risk.work_item.name}"
    if risk.project is not None:
        return f"{risk.project.code} {risk.project.name}"
    if risk.engagement is not None:
        return risk.engagement.name + (f" · {risk.customer.name}" if risk.customer else "")
    if risk.customer is not None:
        return risk.customer.name
    return _("(deleted)")


def subject_url(risk: Risk) -> str:
    slug = risk.organization.slug
    if risk.work_item_id is not None:
        return reverse(
            "projects:work_item_detail", kwargs={"org_slug": slug, "pk": risk.work_item_id}
        )
    if risk.project_id is not None:
        return reverse("projects:project_detail", kwargs={"org_slug": slug, "pk": risk.project_id})
    if risk.engagement_id is not None:
        return reverse(
            "engagements:engagement_detail", kwargs={"org_slug": slug, "pk": risk.engagement_id}
        )
    if risk.customer_id is not None:
        return reverse(
            "engagements:customer_detail", kwargs={"org_slug": slug, "pk": risk.customer_id}
        )
    return ""
