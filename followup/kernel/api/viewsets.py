"""The one base every API viewset inherits.

It resolves the organization from the API key, scopes every queryset and object lookup to
it, checks the key's role against a declarative capability map, and applies the
conventions of API.md (ETag / If-Match, Idempotency-Key, cursor pages, ``updated_after``).
``get_queryset``, ``get_object``, ``initial`` and ``dispatch`` are locked: narrow the
queryset in ``scope_queryset``; a subclass that overrides a locked method fails at import.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.db import models, transaction
from django.http import Http404, HttpResponseBase
from django.utils.cache import quote_etag
from rest_framework import mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import audit
from accounts.models import ApiKey, object_type_of
from accounts.tenancy import forbid_overrides
from followup.kernel.api import idempotency
from followup.kernel.api.filters import TenantFilterSet, filterset_for
from followup.kernel.api.problems import PreconditionFailed
from followup.kernel.api.requests import ApiRequest
from followup.kernel.api.serializers import Secret

_LOCKED = ("get_queryset", "get_object", "initial", "dispatch")
_UNSAFE_ITEM_METHODS = ("PUT", "PATCH", "DELETE")
_WRITE_METHODS = ("POST", *_UNSAFE_ITEM_METHODS)

DEFAULT_CAPABILITIES = {
    "GET": "records.view",
    "HEAD": "records.view",
    "OPTIONS": "records.view",
    "POST": "records.edit",
    "PUT": "records.edit",
    "PATCH": "records.edit",
    "DELETE": "records.edit",
}


def _etag_matches(header: str, etag: str) -> bool:
    candidates = [part.strip() for part in header.split(",")]
    return "*" in candidates or etag in candidates or f"W/{etag}" in candidates


class TenantViewSet(viewsets.GenericViewSet):
    request: ApiRequest
    model: ClassVar[type[models.Model]]
    #: HTTP method -> capability; ``action_capabilities`` refines per action name.
    capabilities: ClassVar[dict[str, str]] = DEFAULT_CAPABILITIES
    action_capabilities: ClassVar[dict[str, str]] = {}
    lookup_value_regex = "[^/]+"  # malformed ids reach get_object and get the same 404

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        forbid_overrides(cls, _LOCKED, "Override scope_queryset() to narrow the queryset.")
        model = cls.__dict__.get("model")
        if model is not None:
            filterset = cls.__dict__.get("filterset_class")
            if filterset is None:
                cls.filterset_class = filterset_for(model)
            elif not issubclass(filterset, TenantFilterSet):
                raise TypeError(f"{cls.__qualname__}.filterset_class must extend TenantFilterSet")

    # --- organization and permissions -------------------------------------------------
    def perform_authentication(self, request: Request) -> None:
        super().perform_authentication(request)
        request.org = request.auth.organization if isinstance(request.auth, ApiKey) else None
        if isinstance(request.auth, ApiKey):
            audit.attribute_to_api_key(request.auth)

    def required_capability(self, request: Request) -> str | None:
        return self.action_capabilities.get(self.action or "") or self.capabilities.get(
            request.method
        )

    @property
    def api_key(self) -> ApiKey:
        return self.request.auth

    # --- scoping ----------------------------------------------------------------------
    def get_queryset(self) -> models.QuerySet:
        org = getattr(self.request, "org", None)
        if org is None:
            # Schema generation introspects querysets without a request org.
            return self.model.objects.none()
        return self.scope_queryset(self.model.objects.for_org(org))

    def scope_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        return queryset

    def get_object(self) -> models.Model:
        queryset = self.filter_queryset(self.get_queryset())
        lookup = self.kwargs.get(self.lookup_url_kwarg or self.lookup_field)
        try:
            pk = uuid.UUID(str(lookup))
        except ValueError:
            raise Http404 from None
        if self.request.method in _UNSAFE_ITEM_METHODS:
            # Held until the response is sent, so If-Match is checked against the row we
            # change, not against a read that another request could overtake.
            queryset = queryset.select_for_update(of=("self",))
        try:
            obj = queryset.get(pk=pk)
        except queryset.model.DoesNotExist:
            raise Http404 from None
        self.check_object_permissions(self.request, obj)
        self._check_preconditions(obj)
        if self.request.method in _WRITE_METHODS and getattr(self, "_audit_before", None) is None:
            self._audit_before = (obj, audit.snapshot(obj))
        return obj

    def _check_preconditions(self, obj: models.Model) -> None:
        etag = getattr(obj, "etag", None)
        if etag is None:
            return
        if_match = self.request.headers.get("If-Match")
        if (
            self.request.method in _UNSAFE_ITEM_METHODS
            and if_match
            and not _etag_matches(if_match, etag)
        ):
            raise PreconditionFailed(extensions={"current_etag": etag})

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        context["org"] = getattr(self.request, "org", None)
        return context

    def perform_create(self, serializer: Any) -> None:
        serializer.save(organization=self.request.org)

    # --- request lifecycle ------------------------------------------------------------
    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponseBase:
        """DRF's request cycle, with one transaction per write.

        Authentication, permissions and throttling run first, outside any transaction (a
        key's "last used" stamp is not part of the write). A POST then claims its
        Idempotency-Key in its own short transaction, so a concurrent retry sees the claim.
        The handler of a write runs in one transaction, which an error response (4xx or
        5xx) rolls back: a request that fails leaves nothing behind, whatever it had
        written before failing.
        """
        self.args = args
        self.kwargs = kwargs
        self._secrets_before = Secret.made
        request = self.initialize_request(request, *args, **kwargs)
        self.request = request
        self.headers = self.default_response_headers
        claim: idempotency.Claim | None = None
        response: HttpResponseBase
        try:
            self.initial(request, *args, **kwargs)
            if request.method == "POST":
                claim = idempotency.begin(request, request.org)
            if request.method in _WRITE_METHODS:
                response = self._respond_in_one_transaction(request, claim, *args, **kwargs)
            else:
                response = self._respond(request, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - every failure becomes its problem response
            # Refused before the handler ran (401, 403, 429, a replay, 409/422 of the key),
            # or the write's transaction failed to commit: nothing of it was kept.
            if claim is not None:
                claim.release()
            response = self.finalize_response(request, self.handle_exception(exc), *args, **kwargs)
        self.response = response  # type: ignore[assignment]  # a replay is a plain HttpResponse
        return response

    def _respond(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
        """Run the handler; an exception becomes its problem+json response."""
        method = (request.method or "").lower()
        handler = (
            getattr(self, method, self.http_method_not_allowed)
            if method in self.http_method_names
            else self.http_method_not_allowed
        )
        try:
            response = handler(request, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - DRF's own cycle: the handler renders it
            response = self.handle_exception(exc)
        final: HttpResponseBase = self.finalize_response(request, response, *args, **kwargs)
        return final

    def _respond_in_one_transaction(
        self, request: Request, claim: idempotency.Claim | None, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        with transaction.atomic():
            recorded_before = len(audit.current_origin().recorded)
            response = self._respond(request, *args, **kwargs)
            if response.status_code >= 400:
                transaction.set_rollback(True)
            else:
                if len(audit.current_origin().recorded) == recorded_before:
                    self._audit_api_write(request, response)
                if claim is not None:
                    claim.store(response)  # commits with the write, or not at all
        if claim is not None and response.status_code >= 400:
            if response.status_code < 500:
                claim.store(response)  # a refusal is the answer to a retry too
            else:
                claim.release()
        return response

    def _audit_api_write(self, request: Request, response: HttpResponseBase) -> None:
        """Every API write leaves an audit entry: the service's own, or this generic one
        (the object's fields before and after, the key that did it, method and path)."""
        before = getattr(self, "_audit_before", None)
        model = getattr(self, "model", None)
        data = getattr(response, "data", None)
        obj: models.Model | None = before[0] if before is not None else None
        old: dict[str, Any] = before[1] if before is not None else {}
        new: dict[str, Any] = {}
        object_id = getattr(obj, "pk", None)
        if object_id is None and isinstance(data, dict) and data.get("id"):
            try:
                object_id = uuid.UUID(str(data["id"]))
            except ValueError:
                object_id = None
        org = self.request.org
        if model is not None and object_id is not None:
            current = model._default_manager.for_org(org).filter(pk=object_id).first()
            if current is not None:
                obj, new = current, audit.snapshot(current)
        count = len(data) if isinstance(data, list) else None
        audit.record(
            org=org,
            action="api.write",
            obj=obj,
            object_type=object_type_of(model) if obj is None and model else None,
            object_id=object_id if obj is None else None,
            changes=audit.diff(old, new),
            note=f"{request.method} {request.path} → {response.status_code}"
            + (f" ({count} items)" if count is not None else ""),
        )

    def handle_exception(self, exc: Exception) -> HttpResponseBase:
        if isinstance(exc, idempotency.Replay):
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        if isinstance(response, Response) and response.status_code in (200, 201):
            data = response.data
            if isinstance(data, dict) and "version" in data and "id" in data:
                response["ETag"] = quote_etag(str(data["version"]))
                if_none_match = request.headers.get("If-None-Match")
                if (
                    request.method == "GET"
                    and if_none_match
                    and _etag_matches(if_none_match, response["ETag"])
                ):
                    response = Response(
                        status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": response["ETag"]}
                    )
                    response = super().finalize_response(request, response, *args, **kwargs)
        if (
            isinstance(response, Response)
            # No secret was made while this response was built: no need to walk its data.
            and Secret.made != getattr(self, "_secrets_before", None)
            and idempotency.redact(response.data)[1]
        ):
            # Shown once: no proxy, browser or client cache may keep a copy either.
            response["Cache-Control"] = "no-store"
        return response


class TenantModelViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """List, retrieve, create, update (PUT/PATCH) and delete, on the tenant base."""
