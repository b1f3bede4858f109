"""Requests refused before any view runs, because no view could answer them well.

- A NUL character in the path or the query string: PostgreSQL cannot store or compare it
  ("A string literal cannot contain NUL"), so every lookup with it was a 500. It is a 400
  naming the parameter (problem+json under ``/api/``, the plain 400 page elsewhere).
- A chunked request body without ``Content-Length``: the WSGI server hands Django an empty
  body, so the request would be read as "name required". Under ``/api/`` it is a 411 that
  says why; pages are posted by browsers, which always send a length.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _

from followup.kernel.api.problems import (
    API_PREFIX,
    PROBLEM_BASE,
    LengthRequired,
    problem_response,
)


def _nul_parameter(request: HttpRequest) -> str | None:
    for key, values in request.GET.lists():
        if "\x00" in key or any("\x00" in value for value in values):
            return key.replace("\x00", "") or "query"
    if "\x00" in request.path_info:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return "path"
        for name, value in match.kwargs.items():
            if "\x00" in str(value):
                return name
        return "path"
    return None


class HostileRequestMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        is_api = request.path.startswith(API_PREFIX)
        parameter = _nul_parameter(request)
        if parameter is not None:
            message = _("Must not contain the NUL character.")
            if is_api:
                return problem_response(
                    request,
                    400,
                    _("The request has invalid fields."),
                    problem_type=PROBLEM_BASE + "validation",
                    errors=[{"field": parameter, "message": message, "code": "null_characters"}],
                )
            from followup.site.views import bad_request

            return bad_request(request)
        if (
            is_api
            and "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
            and not request.META.get("CONTENT_LENGTH")
        ):
            return problem_response(
                request,
                411,
                str(LengthRequired.default_detail),
                problem_type=LengthRequired.problem_type,
            )
        return self.get_response(request)
