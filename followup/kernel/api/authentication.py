from __future__ import annotations

from typing import Any

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from accounts import apikey_cache, ratelimit, rls
from accounts.models import ApiKey
from accounts.services import api_key_authenticate


class ApiKeyPrincipal:
    """Who is calling when a request carries an API key.

    Keys belong to an organization, not to a person, so the principal is the key itself;
    services that record "who did this" get ``actor_user=None`` and the key's name.
    """

    is_authenticated = True
    is_anonymous = False
    is_active = True
    pk = None

    def __init__(self, api_key: ApiKey) -> None:
        self.api_key = api_key

    def __str__(self) -> str:
        return f"API key {self.api_key.name}"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[ApiKeyPrincipal, ApiKey] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _sep, token = header.partition(" ")
        if scheme.lower() != self.keyword.lower() or not token.strip():
            raise exceptions.AuthenticationFailed(
                _("Use the header 'Authorization: Bearer <api key>'.")
            )
        # Guessing keys: failed attempts are counted per client address, and an address
        # that failed too often is refused (429 with Retry-After) before any lookup.
        client = get_client_ip_address(request._request) or "unknown"
        limit, window = settings.FOLLOWUP_API_AUTH_FAILURES, 60
        verdict = ratelimit.blocked(
            "api-auth", client, limit=limit, window=window, also=(apikey_cache.STAMP_KEY,)
        )
        if not verdict.allowed:
            raise _too_many_failures(verdict.retry_after)
        # The API key stamp came in the same round trip: the key this process remembers is
        # used unless a key or organization changed since (accounts.apikey_cache).
        api_key = api_key_authenticate(token.strip(), stamp=verdict.also[apikey_cache.STAMP_KEY])
        if api_key is None:
            verdict = ratelimit.hit("api-auth", client, limit=limit, window=window)
            if not verdict.allowed:
                raise _too_many_failures(verdict.retry_after)
            raise exceptions.AuthenticationFailed(_("Invalid or revoked API key."))
        # The rest of the request runs as the key's organization (row-level security).
        rls.enter_org(api_key.organization_id)
        return ApiKeyPrincipal(api_key), api_key

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) when the key is missing.
        return f'{self.keyword} realm="api"'


def _too_many_failures(wait: int) -> exceptions.Throttled:
    return exceptions.Throttled(
        wait=wait,
        detail=str(
            _("Too many failed authentication attempts from your address. Try again later.")
        ),
    )


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "followup.kernel.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict:
        return {"type": "http", "scheme": "bearer", "description": "Organization API key"}
