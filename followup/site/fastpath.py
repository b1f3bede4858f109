"""One decision at the top of the stack: is this a call of the REST API (``/api/v1/``)?

API calls authenticate with an API key and answer JSON: they need no session, no
logged-in user, no messages, no htmx details and no Content-Security-Policy (a policy for
documents; JSON runs no script). (CSRF stays: DRF exempts its views, so its check returns
at once, and ``check --deploy`` wants the middleware by name.)
Those middleware cost a warm list request a few milliseconds, so ``ApiFastPath`` marks the
request once and each of them, wrapped by ``skipped_for_api`` in ``MIDDLEWARE``, passes an
API request straight on. Everything else (language, time zone, audit origin, security
headers, X-Frame-Options, the problem+json rules) runs for API calls as before. The API
documentation and schema (``/api/docs/``, ``/api/schema/``) are pages: not on the fast path.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from django.http import HttpRequest, HttpResponseBase
from django.utils.module_loading import import_string

API_V1 = "/api/v1/"

Handler = Callable[[HttpRequest], HttpResponseBase]


def is_api_call(request: HttpRequest) -> bool:
    return bool(getattr(request, "api_fast_path", False))


class ApiFastPath:
    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        request.api_fast_path = request.path_info.startswith(API_V1)  # type: ignore[attr-defined]
        return self.get_response(request)


@cache
def skipped_for_api(path: str) -> type:
    """The middleware at ``path``, passing API calls (``ApiFastPath``) straight on; a
    subclass, so the checks that look for a subclass in ``MIDDLEWARE`` (admin) still find
    it. Hooks other than ``__call__`` (``process_view``...) still run for API calls."""
    middleware = import_string(path)

    def __call__(self: Any, request: HttpRequest) -> HttpResponseBase:
        if getattr(request, "api_fast_path", False):
            return self.get_response(request)  # type: ignore[no-any-return]
        return middleware.__call__(self, request)  # type: ignore[no-any-return]

    return type(
        f"{middleware.__name__}SkippedForApi",
        (middleware,),
        {"__call__": __call__, "__module__": __name__, "__doc__": middleware.__doc__},
    )


# The wrapped middleware, importable by name from MIDDLEWARE.
Session = skipped_for_api("django.contrib.sessions.middleware.SessionMiddleware")
Authentication = skipped_for_api("django.contrib.auth.middleware.AuthenticationMiddleware")
Messages = skipped_for_api("django.contrib.messages.middleware.MessageMiddleware")
Htmx = skipped_for_api("django_htmx.middleware.HtmxMiddleware")
Csp = skipped_for_api("csp.middleware.CSPMiddleware")
