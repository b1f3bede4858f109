"""``{% comments_panel obj %}``: the comments of any registered subject, with the form to
add one (the page's part of ``followup.engine.comments``)."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("followup/partials/comments.html", takes_context=True)
def comments_panel(context: template.Context, obj: Any) -> dict[str, Any]:
    from followup.engine.web.comments import panel_context

    request = context["request"]
    return {**panel_context(request, obj), "csrf_token": context.get("csrf_token")}
