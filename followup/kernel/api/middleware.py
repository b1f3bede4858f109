"""Under ``/api/``, every error is application/problem+json: also where Django answers itself.

DRF renders the errors of API views (``problems.problem_exception_handler``), and the
project's ``handler404``/``handler500`` answer problem+json for ``/api/`` paths. Neither
runs when Django answers before any view does: an unknown route is the URL resolver's 404,
and with ``DEBUG`` on Django renders it, and any uncaught exception, as its technical HTML
pages (the URL patterns, the traceback, local variables). This middleware, the outermost,
turns any error response under ``/api/`` that is not JSON into a problem of the same status,
so an API client never gets HTML, whatever ``DJANGO_DEBUG`` says.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBase

from followup.kernel.api.problems import API_PREFIX, PROBLEM_CONTENT_TYPE, problem_response

_JSON_TYPES = ("application/json", PROBLEM_CONTENT_TYPE)
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")
_DETAILS = {
    404: "No such resource.",
    500: "Something went wrong on our side. It has been logged.",
}


class ApiProblemsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if (
            response.status_code < 400
            or not request.path.startswith(API_PREFIX)
            or response.get("Content-Type", "").startswith(_JSON_TYPES)
        ):
            return response
        return _as_problem(request, response)


def _as_problem(request: HttpRequest, response: HttpResponseBase) -> HttpResponse:
    status = response.status_code
    problem = problem_response(request, status, _DETAILS.get(status))
    for name in _KEPT_HEADERS:
        if response.has_header(name):
            problem[name] = response[name]
    return problem
