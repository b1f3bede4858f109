"""Every API error as application/problem+json (RFC 9457).

Used by DRF (``EXCEPTION_HANDLER``) and by the project's 400/403/404/500 handlers for
``/api/`` paths, so that no HTML page, stack trace or SQL reaches an API client.
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_BASE = "https://followup.dev/problems/"


class ProblemError(exceptions.APIException):
    """An API error with its own problem type and optional extension members."""

    problem_type = "about:blank"

    def __init__(
        self,
        detail: Any = None,
        *,
        status_code: int | None = None,
        problem_type: str | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        if status_code is not None:
            self.status_code = status_code
        if problem_type is not None:
            self.problem_type = problem_type
        self.extensions = extensions or {}


class PreconditionFailed(ProblemError):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = _("The resource changed since you read it (If-Match does not match its ETag).")
    default_code = "precondition_failed"
    problem_type = PROBLEM_BASE + "precondition-failed"


class Conflict(ProblemError):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The request conflicts with the current state of the resource.")
    default_code = "conflict"
    problem_type = PROBLEM_BASE + "conflict"


class Unprocessable(ProblemError):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = _("The request cannot be processed.")
    default_code = "unprocessable"
    problem_type = PROBLEM_BASE + "unprocessable"


class PayloadTooLarge(ProblemError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"
    problem_type = PROBLEM_BASE + "payload-too-large"


class LengthRequired(ProblemError):
    status_code = status.HTTP_411_LENGTH_REQUIRED
    default_detail = _(
        "Send the body with a Content-Length header; chunked request bodies are not accepted."
    )
    default_code = "length_required"
    problem_type = PROBLEM_BASE + "length-required"


class ServiceUnavailable(ProblemError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("The service is temporarily unavailable. Try again shortly.")
    default_code = "unavailable"
    problem_type = PROBLEM_BASE + "unavailable"


#: Seconds a client should wait before retrying when the database is unreachable.
RETRY_AFTER_UNAVAILABLE = 30


def body_limit_detail() -> str:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return str(
        _("The request body is larger than the limit of %(limit)s bytes (%(mib)s MiB).")
        % {"limit": limit, "mib": f"{limit / 1048576:g}"}
    )


def is_database_unavailable(exc: BaseException | None) -> bool:
    """The database cannot be reached (down, restarting, connection refused or lost)."""
    return isinstance(exc, OperationalError | InterfaceError)


def flatten_errors(detail: Any, prefix: str = "") -> list[dict[str, Any]]:
    """DRF's nested error details as a flat list with dotted field paths (``3.customer``)."""
    out: list[dict[str, Any]] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = "" if key in ("non_field_errors", "__all__") else str(key)
            path = ".".join(p for p in (prefix, name) if p)
            out.extend(flatten_errors(value, path))
    elif isinstance(detail, list):
        if all(isinstance(item, exceptions.ErrorDetail | str) for item in detail):
            for item in detail:
                out.append(_error(prefix, item))
        else:
            for index, item in enumerate(detail):
                if item:  # bulk: valid items have an empty dict
                    out.extend(flatten_errors(item, ".".join(p for p in (prefix, str(index)) if p)))
    else:
        out.append(_error(prefix, detail))
    return out


def _error(field: str, item: Any) -> dict[str, Any]:
    return {"field": field or None, "message": str(item), "code": getattr(item, "code", "invalid")}


def problem(
    status_code: int,
    detail: Any = None,
    *,
    title: str | None = None,
    problem_type: str = "about:blank",
    **extensions: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": problem_type,
        "title": title or HTTPStatus(status_code).phrase,
        "status": status_code,
    }
    if detail is not None:
        body["detail"] = str(detail)
    body.update(extensions)
    return body


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    request = context.get("request")
    if request is not None:
        # A problem is JSON whatever the view negotiated (the schema view renders YAML).
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = PROBLEM_CONTENT_TYPE
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge(body_limit_detail(), extensions={"limit_bytes": _body_limit()})
    elif is_database_unavailable(exc):
        logger.warning("Database unavailable: %s", exc)
        return Response(
            problem(
                503, ServiceUnavailable.default_detail, problem_type=ServiceUnavailable.problem_type
            ),
            status=503,
            content_type=PROBLEM_CONTENT_TYPE,
            headers={"Retry-After": str(RETRY_AFTER_UNAVAILABLE)},
        )
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )

    response = drf_exception_handler(exc, context)
    if response is None:
        # Unexpected: log it with its traceback for us, answer a plain 500 for the client.
        logger.exception("Unhandled API error", exc_info=exc)
        body = problem(500, _("Something went wrong on our side. It has been logged."))
        return Response(body, status=500, content_type=PROBLEM_CONTENT_TYPE)

    if isinstance(exc, exceptions.ValidationError):
        body = problem(
            response.status_code,
            _("The request has invalid fields."),
            title=str(_("Validation failed")),
            problem_type=PROBLEM_BASE + "validation",
            errors=flatten_errors(exc.detail),
        )
    else:
        detail = response.data.get("detail") if isinstance(response.data, dict) else response.data
        extensions = getattr(exc, "extensions", {})
        body = problem(
            response.status_code,
            detail,
            problem_type=getattr(exc, "problem_type", "about:blank"),
            **extensions,
        )
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            body["retry_after"] = int(exc.wait) + (0 if exc.wait == int(exc.wait) else 1)
    response.data = body
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


def _body_limit() -> int:
    return int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)


def problem_response(
    request: HttpRequest,
    status_code: int,
    detail: Any = None,
    *,
    problem_type: str = "about:blank",
    **extensions: Any,
) -> HttpResponse:
    """A problem+json response outside DRF (URL not found, CSRF, server error)."""
    return HttpResponse(
        json.dumps(problem(status_code, detail, problem_type=problem_type, **extensions)),
        status=status_code,
        content_type=PROBLEM_CONTENT_TYPE,
    )
