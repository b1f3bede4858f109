"""Cadences in the reader's language: the pure recurrence module with Django's gettext."""

from __future__ import annotations

from datetime import time

from django.utils.translation import gettext, ngettext

from followup.engine.calc import recurrence

WORDS = recurrence.Words(gettext=gettext, ngettext=ngettext)


def describe(rule: recurrence.Rule, at: time | None = None, *, tz: str | None = None) -> str:
    """``recurrence.describe`` in the active language (``tz``: the owner's zone)."""
    return recurrence.describe(rule, at, words=WORDS, tz=tz)
