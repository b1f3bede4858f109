"""Helpers shared by the tests of every app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext


def count_queries(request: Callable[[], Any]) -> tuple[int, Any]:
    with CaptureQueriesContext(connection) as ctx:
        response = request()
        if hasattr(response, "render") and not getattr(response, "is_rendered", True):
            response.render()
    return len(ctx.captured_queries), response


def assert_constant_queries(make_rows: Callable[[int], Any], request: Callable[[], Any]) -> int:
    """The same number of queries for 1 row as for 50: no N+1 on a list page or API list.

    ``make_rows(n)`` adds n rows; ``request()`` fetches the page and returns the response.
    Returns the query count, so a test can also pin it.
    """
    make_rows(1)
    request()  # warm-up: once-a-minute writes (API key last use), session, caches
    one, response = count_queries(request)
    assert response.status_code == 200, response
    make_rows(49)
    fifty, response = count_queries(request)
    assert response.status_code == 200, response
    assert fifty == one, f"{one} queries for 1 row but {fifty} for 50: an N+1 somewhere"
    return one
