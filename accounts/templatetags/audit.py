"""Template filters of the audit trail: action words and stored values for people."""

from __future__ import annotations

from typing import Any

from django import template

from accounts import audit

register = template.Library()


@register.filter
def audit_action(action: str) -> str:
    return audit.action_label(action)


@register.filter
def audit_value(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "✓" if value else "✗"
    return str(value)


@register.inclusion_tag("accounts/partials/history.html", takes_context=True)
def history_panel(context: template.Context, obj: Any) -> dict[str, Any]:
    """``{% history_panel customer %}``: the object's latest audit entries (one query)."""
    from accounts import selectors

    org = context.get("org")
    history = selectors.history_of(org, obj) if org is not None and obj is not None else []
    return {"history": history, "request": context.get("request")}
