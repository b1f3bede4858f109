from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from accounts import audit, zones


class UserPreferencesMiddleware:
    """Show pages in the signed-in person's language and time zone.

    Runs after LocaleMiddleware: a language saved on the account wins over the browser's.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            if user.language:
                translation.activate(user.language)
                request.LANGUAGE_CODE = translation.get_language()
            if user.timezone:
                timezone.activate(zones.zone(user.timezone))
            else:
                timezone.deactivate()
        else:
            timezone.deactivate()
        return self.get_response(request)


class AuditOriginMiddleware:
    """Every request runs with its audit origin (web or API, address, user agent), so each
    entry a service records says where the change came from (``accounts.audit``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        via = audit.Via.API if request.path.startswith("/api/") else audit.Via.WEB
        with audit.origin(
            via=via,
            ip_address=audit.client_address(request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        ):
            return self.get_response(request)
