"""Typed requests: what the tenancy bases put on a request before any view code runs.

``OrgViewMixin`` resolves the organization and the person's membership from the URL;
annotate a page's ``request`` with ``OrgRequest`` and mypy knows ``request.org``.
(The API's counterpart, resolved from the API key, is ``followup.kernel.api.ApiRequest``.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

    from accounts.models import Membership, Organization, User


class OrgRequest(HttpRequest):
    user: User  # signed in: the base refuses anonymous visitors
    org: Organization
    membership: Membership
    htmx: HtmxDetails


def safe_next(request: HttpRequest, default: str | None = None) -> str | None:
    """The ``next`` of a form post or link (POST first, then GET) when it stays on this site,
    else ``default``. The one check for every "go back to where you came from": an
    absolute URL to another host, a scheme change or ``//evil.example`` falls back."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default
