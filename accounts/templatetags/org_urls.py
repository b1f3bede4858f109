"""``{% org_url "app:name" pk=obj.pk %}``: a URL inside the current organization.

Every organization page needs ``org_slug``; passing it by hand in every template is noise
and an easy place to link into the wrong organization.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

register = template.Library()


@register.simple_tag(takes_context=True)
def org_url(context: template.Context, name: str, *args: Any, **kwargs: Any) -> str:
    request = context["request"]
    return reverse(
        name,
        args=[request.org.slug, *args] if args else None,
        kwargs=None if args else {"org_slug": request.org.slug, **kwargs},
    )


@register.filter
def can(membership: Any, capability: str) -> bool:
    """``{% if membership|can:"records.edit" %}``"""
    return bool(membership) and membership.can(capability)
