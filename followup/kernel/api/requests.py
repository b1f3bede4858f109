"""The typed API request: ``TenantViewSet`` sets ``org`` from the API key before any
handler runs, and ``auth`` is that key."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework.request import Request

if TYPE_CHECKING:
    from accounts.models import ApiKey, Organization


class ApiRequest(Request):
    org: Organization
    auth: ApiKey
