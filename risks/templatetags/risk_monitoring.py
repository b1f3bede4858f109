"""The contingency panel of a project risk's page: the project's reserve balance, what was
drawn for this risk, and the one action that draws it once the risk has occurred."""

from __future__ import annotations

from typing import Any

from django import template

from risks import escalation
from risks.models import Risk, RiskStatus, Side

register = template.Library()


@register.inclusion_tag("risks/_contingency.html", takes_context=True)
def contingency_panel(context: dict[str, Any], risk: Risk) -> dict[str, Any]:
    if risk.side != Side.PROJECT or risk.project is None or risk.contingency_amount is None:
        return {"show": False}
    org = risk.organization
    drawn = escalation.contingency_drawn(org, risk)
    membership = context.get("membership")
    return {
        "show": True,
        "risk": risk,
        "org": context.get("org"),
        "csrf_token": context.get("csrf_token"),
        "balance": escalation.contingency_balance(org, risk.project),
        "drawn": drawn,
        "can_draw": (
            membership is not None
            and membership.can("records.edit")
            and risk.status == RiskStatus.OCCURRED
            and not drawn
        ),
    }
