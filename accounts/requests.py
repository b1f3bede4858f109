"""Typed requests: what the tenancy bases put on a request before any view code runs.

``OrgViewMixin`` resolves the organization and the person's membership from the URL;
annotate a page's ``request`` with ``OrgRequest`` and mypy knows ``request.org``.
(The API's counterpart, resolved from the API key, is ``followup.kernel.api.ApiRequest``.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

    from accounts.models import Membership, Organization, User


class OrgRequest(HttpRequest):
    user: User  # signed in: the base refuses anonymous visitors
    org: Organization
    membership: Membership
    htmx: HtmxDetails
