"""E-mail to one person, in their language and time zone, with a text and an HTML part."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone, translation

from accounts import zones
from accounts.models import User


def user_zone(user: User) -> zoneinfo.ZoneInfo:
    return zones.zone(user.timezone)


def user_language(user: User) -> str:
    return user.language or settings.LANGUAGE_CODE


def absolute(path: str) -> str:
    if not path or path.startswith(("http://", "https://")):
        return path
    return settings.BASE_URL + path


def send_to_user(
    *, user: User, template: str, context: dict[str, Any], headers: dict[str, str] | None = None
) -> None:
    """Render ``<template>_subject.txt``, ``.txt`` and ``.html`` for ``user`` and send.

    Raises on failure: callers send inside the transaction that records the delivery, so an
    error rolls the record back and a later tick retries.
    """
    with translation.override(user_language(user)), timezone.override(user_zone(user)):
        context = {**context, "user": user, "base_url": settings.BASE_URL}
        subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
        text = render_to_string(f"{template}.txt", context)
        html = render_to_string(f"{template}.html", context)
    message = EmailMultiAlternatives(subject, text, to=[user.email], headers=headers or {})
    message.attach_alternative(html, "text/html")
    message.send()
