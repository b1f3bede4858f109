"""The API's JSON parser: DRF's, with a bound on nesting.

A body nested a thousand levels deep (``{"name": [[[[...]]]]}``) overflows Python's stack
in the parser or in validation (``RecursionError``, a 500). No resource of the API nests
deeper than a few levels, so a body deeper than ``MAX_DEPTH`` is a 400 before any field is
looked at.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32


def depth_exceeds(value: Any, limit: int) -> bool:
    """Whether ``value`` nests containers deeper than ``limit`` (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class BoundedJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        too_deep = ParseError(
            _("JSON nested deeper than %(max)d levels is not accepted.") % {"max": MAX_DEPTH}
        )
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise too_deep from None
        if depth_exceeds(data, MAX_DEPTH):
            raise too_deep
        return data
