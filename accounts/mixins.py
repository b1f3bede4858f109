"""The base of every organization page (``/o/<org_slug>/...``) and of its forms.

The organization is resolved once, from the URL and the user's membership; a user who is
not a member gets the same 404 as for an organization that does not exist. Each view
declares which capability each HTTP method needs (Sentry's scope map), and its queryset
always starts from ``model.objects.for_org(request.org)``: ``get_queryset``,
``get_object`` and ``dispatch`` are locked; narrow the queryset in ``scope_queryset``.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar, cast

from django import forms
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse

from accounts import rls
from accounts.inputs import InputRulesFormMixin
from accounts.models import Membership, Organization
from accounts.requests import OrgRequest
from accounts.tenancy import forbid_overrides, org_queryset

_LOCKED = ("dispatch", "get_queryset", "get_object")

READ_ONLY = {"GET": "records.view", "HEAD": "records.view"}
READ_WRITE = {**READ_ONLY, "POST": "records.edit"}


def resolve_membership(request: HttpRequest, org_slug: str) -> Membership | None:
    if not request.user.is_authenticated:
        return None
    with rls.cross_tenant("membership"):
        return (
            Membership.objects.for_user(request.user)
            .select_related("organization")
            .filter(organization__slug=org_slug)
            .first()
        )


class OrgViewMixin:
    """Mix in before a Django generic view."""

    #: HTTP method -> capability (see ``accounts.roles``). A method not listed is refused.
    capabilities: ClassVar[dict[str, str]] = READ_ONLY
    model: type[models.Model] | None = None
    request: HttpRequest
    kwargs: dict[str, Any]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        forbid_overrides(cls, _LOCKED, "Override scope_queryset() to narrow the queryset.")

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        org_slug = kwargs.pop("org_slug")
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        membership = resolve_membership(request, org_slug)
        if membership is None:
            raise Http404
        # The rest of the request (rendering included) runs as this organization.
        rls.enter_org(membership.organization_id)
        org_request = cast(OrgRequest, request)
        org_request.org = membership.organization
        org_request.membership = membership
        self.kwargs = kwargs
        capability = self.capabilities.get(request.method or "")
        if capability is None:
            return self.http_method_not_allowed(request, *args, **kwargs)  # type: ignore[attr-defined]
        if not membership.can(capability):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]

    # Typed access to what dispatch() resolved. (``self.request`` stays an HttpRequest for
    # mypy: narrowing a base class attribute in a mixin is reported on every view.)
    @property
    def org(self) -> Organization:
        return self.org_request.org

    @property
    def membership(self) -> Membership:
        return self.org_request.membership

    @property
    def org_request(self) -> OrgRequest:
        return cast(OrgRequest, self.request)

    def get_queryset(self) -> models.QuerySet:
        if self.model is None:
            raise ImproperlyConfigured(f"{type(self).__name__} needs a model")
        return self.scope_queryset(self.model.objects.for_org(self.request.org))  # type: ignore[attr-defined]

    def scope_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        return queryset

    def get_object(self, queryset: models.QuerySet | None = None) -> models.Model:
        queryset = self.get_queryset()
        try:
            pk = uuid.UUID(str(self.kwargs.get("pk")))
            return queryset.get(pk=pk)
        except (ValueError, queryset.model.DoesNotExist):
            raise Http404 from None


class OrgFormMixin(InputRulesFormMixin):
    """Scopes every model choice of a form to the organization.

    A ``ModelChoiceField`` over a tenant-owned model (or over users) only offers, and only
    accepts, rows of ``org``: a foreign id posted by hand is "not one of the available
    choices" (a form error), never a cross-tenant write. Text and date fields follow the
    input rules (``accounts.inputs``).
    """

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        self.org = org
        for field in self.fields.values():
            if isinstance(field, forms.ModelChoiceField):
                field.queryset = org_queryset(field.queryset.model, org)
