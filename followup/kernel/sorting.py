"""Sorting a list by ``?sort=``: a whitelist of orders per list, ``-`` for descending.

Each list declares its orders as data (``{"due": ("due_at", "id"), "-due": (...)}``); a
value that is not in the dict falls back to the list's default, so a hand-typed
``?sort=password`` can never reach ``order_by``. The headers are rendered by the
``{% sort_header %}`` tag (``followup.engine.templatetags.lists``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Sort:
    param: str  # as it appears in ?sort=, e.g. "-due"
    order_by: tuple[Any, ...]

    @property
    def key(self) -> str:
        return self.param.lstrip("-")

    @property
    def descending(self) -> bool:
        return self.param.startswith("-")


def choose(value: str | None, orders: Mapping[str, tuple[Any, ...]], default: str) -> Sort:
    """The order for ``value`` if the list allows it, else the list's default."""
    if default not in orders:
        raise KeyError(f"The default order {default!r} is not one of the list's orders")
    param = value if value is not None and value in orders else default
    return Sort(param=param, order_by=tuple(orders[param]))


def toggled(current: str, key: str, *, first: str = "asc") -> str:
    """The ``?sort=`` a header links to: the other direction when the list is sorted by
    its column already, else the column's first direction (``first``: asc or desc)."""
    if current == key:
        return f"-{key}"
    if current == f"-{key}":
        return key
    return f"-{key}" if first == "desc" else key
