"""What every input must satisfy, whatever app and channel it enters through.

Two rules, written once here and applied by the bases every form and API serializer
extends (``InputRulesFormMixin`` below, ``followup.kernel.api.serializers.InputRulesMixin``),
by the CSV import's row forms, and checked again by services that store the value:

- **Text carries no control characters.** A single-line field (a title, a name) refuses
  every C0 control (U+0000 to U+001F, tab and line breaks included), DEL (U+007F) and the
  C1 controls (U+0080 to U+009F); a multi-line field (notes, a summary: a ``Textarea`` in a
  form, ``style={"base_template": "textarea.html"}`` in a serializer, a ``TextField`` in a
  model) allows tab, line feed and carriage return and refuses the rest. They are refused,
  not stripped: a client learns that its text was not stored as sent. Writers of formats
  that forbid them (iCalendar) strip them again with ``strip_controls``.
- **Dates and times lie in the supported range**: instants from 1900-01-01T00:00:00Z up to,
  not including, 3000-01-01T00:00:00Z; dates from 1900-01-01 to 2999-12-31. Inside it every
  local time in every zone, plus a cadence step or a snooze, is still a representable
  ``datetime``; outside it (year 1, year 9999) arithmetic overflows. Filters that only
  compare (``updated_after``) stay lenient and ``clamp_moment`` their value instead.

This module sits in the base layer so that the pages of ``accounts`` and the API
conventions of the kernel share it.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
END = datetime(3000, 1, 1, tzinfo=UTC)  # exclusive
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)

_SINGLE_LINE_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")
_MULTI_LINE_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_WRITER_CONTROLS = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")  # everything but tab


# --- Text ---------------------------------------------------------------------------------


@deconstructible
class TextValidator:
    """Refuses control characters; ``multiline`` allows tab, line feed and carriage return."""

    code = "control_characters"

    def __init__(self, *, multiline: bool = False) -> None:
        self.multiline = multiline

    def __call__(self, value: Any) -> None:
        if not isinstance(value, str):
            return
        pattern = _MULTI_LINE_CONTROLS if self.multiline else _SINGLE_LINE_CONTROLS
        found = pattern.search(value)
        if found is None:
            return
        if self.multiline:
            message = _(
                "Remove the control character U+%(code)s: text may hold line breaks and "
                "tabs, but no other control characters."
            )
        else:
            message = _(
                "Remove the control character U+%(code)s: this is one line of text, without "
                "line breaks, tabs or other control characters."
            )
        raise ValidationError(message, code=self.code, params={"code": f"{ord(found[0]):04X}"})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TextValidator) and other.multiline == self.multiline

    def __hash__(self) -> int:
        return hash((TextValidator, self.multiline))


SINGLE_LINE = TextValidator()
MULTI_LINE = TextValidator(multiline=True)


def strip_controls(text: str) -> str:
    """``text`` without control characters other than tab, for writers of formats that
    forbid them (RFC 5545 TEXT). Line breaks go too: a writer escapes them first."""
    return _WRITER_CONTROLS.sub("", text)


# --- Dates and times -----------------------------------------------------------------------


def in_range(value: date | datetime) -> bool:
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            return FIRST_DAY <= value.date() <= LAST_DAY
        try:
            return EARLIEST <= value.astimezone(UTC) < END
        except OverflowError:  # its UTC instant is before year 1 or after year 9999
            return False
    return FIRST_DAY <= value <= LAST_DAY


@deconstructible
class DateRangeValidator:
    """Refuses dates and instants outside the supported range (see the module)."""

    code = "out_of_range"

    def __call__(self, value: Any) -> None:
        if isinstance(value, date) and not in_range(value):
            raise ValidationError(
                _("Give a date between %(first)s and %(last)s."),
                code=self.code,
                params={"first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()},
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DateRangeValidator)

    def __hash__(self) -> int:
        return hash(DateRangeValidator)


DATE_RANGE = DateRangeValidator()


def check_date(value: date | datetime | None, field: str) -> None:
    """``DATE_RANGE`` for a service: a ValidationError on ``field`` (None passes)."""
    if value is None:
        return
    try:
        DATE_RANGE(value)
    except ValidationError as exc:
        raise ValidationError({field: exc.error_list}) from None


def clamp_moment(value: datetime) -> datetime:
    """An aware instant pulled into the supported range, for filters that only compare.

    No stored value lies outside the range, so ``updated_after=0001-01-01T00:00:00+05:00``
    means the same as its clamped value, and cannot overflow on the way to the database.
    """
    try:
        instant = value.astimezone(UTC)
    except OverflowError:
        return EARLIEST if value.year < 5000 else END
    return min(max(instant, EARLIEST), END)


# --- Forms ---------------------------------------------------------------------------------


def rules_for_form_field(field: forms.Field) -> None:
    """Add the input rules that fit ``field`` (idempotent)."""
    wanted: list[Any] = []
    if isinstance(field, forms.CharField) and not isinstance(field.widget, forms.PasswordInput):
        # Passwords are hashed, never shown: any character the person can type is theirs.
        wanted.append(MULTI_LINE if isinstance(field.widget, forms.Textarea) else SINGLE_LINE)
    if isinstance(field, forms.DateField | forms.DateTimeField):
        wanted.append(DATE_RANGE)
    for validator in wanted:
        if validator not in field.validators:
            field.validators.append(validator)


class InputRulesFormMixin:
    """Every form of the project mixes this in (``tests/test_input_rules.py`` checks it):
    each text, date and date-time field gets the input rules of this module."""

    fields: dict[str, forms.Field]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            rules_for_form_field(field)
