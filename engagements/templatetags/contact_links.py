"""``{{ contact.phone|tel_href }}`` and ``{{ contact.phone|phone_display }}``: click-to-call."""

from __future__ import annotations

from django import template

from engagements.calc import phone

register = template.Library()


@register.filter
def tel_href(value: str | None) -> str:
    return phone.tel_uri(value or "")


@register.filter
def phone_display(value: str | None) -> str:
    return phone.display(value or "")
