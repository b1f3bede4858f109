"""Pages that belong to no app: health probes and the error pages (HTML, or problem+json
under ``/api/``)."""

from __future__ import annotations

import hashlib
import json
import sys
from functools import lru_cache

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import ImproperlyConfigured, RequestDataTooBig
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from followup.kernel.api.problems import (
    API_PREFIX,
    RETRY_AFTER_UNAVAILABLE,
    PayloadTooLarge,
    ServiceUnavailable,
    body_limit_detail,
    is_database_unavailable,
    problem_response,
)
from followup.site.celery import app as celery_app


@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """The process is alive. Deliberately checks nothing else (see /readyz)."""
    return JsonResponse({"status": "ok"})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_broker() -> None:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)


@never_cache
@require_GET
def readyz(request: HttpRequest) -> HttpResponse:
    """Ready to serve: the database and the broker answer. 503 (with which failed) otherwise."""
    checks: dict[str, str] = {}
    for name, check in (("database", _check_database), ("broker", _check_broker)):
        try:
            check()
            checks[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"; we report which
            checks[name] = f"error: {type(exc).__name__}"
    ok = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks}, status=200 if ok else 503
    )


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if isinstance(exception, RequestDataTooBig):
        if _is_api(request):
            return problem_response(
                request,
                413,
                body_limit_detail(),
                problem_type=PayloadTooLarge.problem_type,
                limit_bytes=settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
            )
        return HttpResponse(body_limit_detail(), status=413, content_type="text/plain")
    if _is_api(request):
        return problem_response(request, 400)
    return render(request, "400.html", status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return problem_response(request, 403)
    return render(request, "403.html", status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return problem_response(request, 404, "No such resource.")
    return render(request, "404.html", status=404)


def unavailable(request: HttpRequest) -> HttpResponse:
    """The database is unreachable: 503 with ``Retry-After``, and a page that needs no
    database (no context processors, no session, no user)."""
    if _is_api(request):
        response = problem_response(
            request,
            503,
            str(ServiceUnavailable.default_detail),
            problem_type=ServiceUnavailable.problem_type,
        )
    else:
        response = render(None, "503.html", {"retry_after": RETRY_AFTER_UNAVAILABLE}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_UNAVAILABLE)
    response["Cache-Control"] = "no-store"
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this while handling the exception, so it is still the current one.
    if is_database_unavailable(sys.exc_info()[1]):
        return unavailable(request)
    if _is_api(request):
        return problem_response(
            request, 500, "Something went wrong on our side. It has been logged."
        )
    # No context processors: the failure may be in one of them.
    return render(None, "500.html", status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    if _is_api(request):
        return problem_response(request, 403, "CSRF verification failed.")
    response = render(request, "403_csrf.html", status=403)
    # The offline outbox tells an expired token (fetch a fresh one, send again) from a
    # refusal by role.
    response["X-CSRF-Failure"] = "1"
    return response


# --- The installable app: service worker, manifest, a fresh CSRF token -----------------------

#: What the service worker keeps for offline use (the app shell; pages are cached as visited).
OFFLINE_ASSETS = (
    "css/app.css",
    "js/app.js",
    "js/search.js",
    "js/bulk.js",
    "js/mentions.js",
    "js/offline.js",
    "js/call-prompt.js",
    "img/favicon.svg",
    "django_htmx/htmx-2.min.js",
)


@lru_cache(maxsize=1)
def _worker_source() -> str:
    path = finders.find("js/sw.js")
    if not path or isinstance(path, list):
        raise ImproperlyConfigured("static/js/sw.js is missing")
    with open(path, encoding="utf-8") as handle:
        return handle.read()


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """``/sw.js``: served from the site root so that its scope is the whole site (a worker
    under /static/ could only control /static/). The asset list carries the static files'
    current names, so a new release installs a new worker and drops the old cache."""
    assets = [static(name) for name in OFFLINE_ASSETS]
    source = _worker_source()
    version = hashlib.sha256(json.dumps(assets).encode() + source.encode()).hexdigest()[:16]
    body = (
        f"self.FOLLOWUP_ASSETS = {json.dumps(assets)};\n"
        f"self.FOLLOWUP_VERSION = {json.dumps(version)};\n{source}"
    )
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def web_manifest(request: HttpRequest) -> HttpResponse:
    """``/manifest.webmanifest``: what makes the site installable on a phone's home screen."""
    manifest = {
        "name": "Followup",
        "short_name": "Followup",
        "description": str(_("Business and project follow-up; log touchpoints offline.")),
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#f7f7f5",
        "theme_color": "#1f5fbf",
        "icons": [
            {"src": static("img/favicon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    response = JsonResponse(manifest, content_type="application/manifest+json")
    response["Cache-Control"] = "public, max-age=3600"
    return response


@never_cache
@require_GET
def csrf_token(request: HttpRequest) -> HttpResponse:
    """A fresh CSRF token for the outbox, whose queued posts may outlive the page's token
    (a new log-in rotates it). Same-origin only: no CORS header lets another site read it."""
    return JsonResponse({"csrfToken": get_token(request)})
