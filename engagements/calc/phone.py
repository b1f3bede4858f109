"""Telephone numbers for people: a ``tel:`` address a phone can dial, and digits grouped so
that they read at a glance. Pure: no Django, no project module."""

from __future__ import annotations

import re

# ITU-T E.164 country codes of one and two digits; every other code has three.
_ONE_DIGIT = {"1", "7"}
_TWO_DIGITS = {
    "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46",
    "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63",
    "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98",
}  # fmt: skip
_SEPARATORS = re.compile(r"[\s\-./()]")
_EXTENSION = re.compile(r"\s*(?:ext\.?|x|#)\s*(\d+)\s*$", re.IGNORECASE)


def _split(raw: str) -> tuple[str, str, str]:
    """(plus sign or "", digits, extension digits) of a number as people type it."""
    text = raw.strip()
    extension = ""
    match = _EXTENSION.search(text)
    if match:
        extension = match.group(1)
        text = text[: match.start()]
    digits = "".join(ch for ch in text if ch.isdigit())
    plus = "+" if text.startswith("+") else ""
    if not plus and digits.startswith("00") and len(digits) > 4:
        plus, digits = "+", digits[2:]  # 0049 ... is +49 ...
    return plus, digits, extension


def tel_uri(raw: str) -> str:
    """``tel:+4930123456`` (RFC 3966), or "" when there is no number to dial."""
    plus, digits, extension = _split(raw)
    if len(digits) < 3:
        return ""
    return f"tel:{plus}{digits}" + (f";ext={extension}" if extension else "")


def _groups(digits: str) -> list[str]:
    """Blocks of three with four at the end (415 555 2671); a leftover makes the first
    block two digits (30 123 4567) or the one before the end four (138 0013 8000)."""
    if len(digits) <= 4:
        return [digits]
    head, last = digits[:-4], digits[-4:]
    first: list[str] = []
    if len(head) % 3 == 2:
        first, head = [head[:2]], head[2:]
    before_last: list[str] = []
    if len(head) % 3 == 1:
        if len(head) < 4:
            return [*first, head, last]
        before_last, head = [head[-4:]], head[:-4]
    return [*first, *(head[i : i + 3] for i in range(0, len(head), 3)), *before_last, last]


def display(raw: str) -> str:
    """The number as people read it. A number written with spaces or dashes keeps the
    writer's grouping; one written as bare digits is grouped (the country code apart)."""
    text = " ".join(raw.split())
    plus, digits, extension = _split(raw)
    if len(digits) < 3:
        return text
    if _SEPARATORS.search(_EXTENSION.sub("", text).strip()):
        return text
    if plus:
        size = 1 if digits[:1] in _ONE_DIGIT else 2 if digits[:2] in _TWO_DIGITS else 3
        shown = f"+{digits[:size]} " + " ".join(_groups(digits[size:]))
    else:
        shown = " ".join(_groups(digits))
    return shown + (f" ext. {extension}" if extension else "")
