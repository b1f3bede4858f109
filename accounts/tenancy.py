"""The tenancy primitives every app builds on.

One rule: every tenant-owned row has a non-null, indexed ``organization`` and every query
that serves a request, a task or a command starts from ``Model.objects.for_org(org)``.
Deliberate cross-organization reads (authenticating an API key, a beat tick that claims
due work for every organization) go through ``dangerously_unscoped()`` so that they stand
out in review and in ``tests/test_tenancy_static.py``, which rejects any other entry point.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Self, TypeVar

from django.core.exceptions import ValidationError
from django.db import connection, models
from django.db.models import F
from django.http import Http404
from django.utils import timezone

from accounts.ids import uuid7

if TYPE_CHECKING:
    from accounts.models import Organization

M = TypeVar("M", bound="TenantModel")


class BaseModel(models.Model):
    """Opaque time-ordered id, timestamps and a version that grows on every change.

    The version backs the API's ETag/If-Match: ``save()`` bumps it, and code that writes
    through ``QuerySet.update()`` must use ``update_versioned()`` so clients see the change.
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            self.version = (self.version or 0) + 1
            self.updated_at = timezone.now()
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "version", "updated_at"}
        super().save(*args, **kwargs)

    @property
    def etag(self) -> str:
        return f'"{self.version}"'


_Row = TypeVar("_Row", bound=models.Model)


class TenantQuerySet(models.QuerySet[_Row, _Row]):
    #: A ``BYPASS_REASONS`` entry: this queryset runs its SQL inside ``cross_tenant``.
    _rls_reason: str | None = None
    #: The organization of ``for_org``: the queryset's SQL runs as it when no tenant context
    #: is set at all (a service called outside a request or task). Inside another context
    #: the context wins: ``for_org(B)`` inside A's request sees nothing.
    _rls_org: Any = None

    def across_orgs(self, reason: str) -> Self:
        """Evaluate (fetch, count, update, delete) across organizations, for ``reason``
        (``accounts.rls.BYPASS_REASONS``), wherever the queryset is evaluated: for lazy
        querysets handed to a page (a person's own memberships)."""
        from accounts import rls

        rls._check_reason(reason)
        clone: Self = self._chain()  # type: ignore[attr-defined]
        clone._rls_reason = reason
        return clone

    def _clone(self) -> Self:
        clone: Self = super()._clone()  # type: ignore[misc]
        clone._rls_reason = self._rls_reason
        clone._rls_org = self._rls_org
        return clone

    def _in_context(self) -> Any:
        import contextlib

        from accounts import rls

        if self._rls_reason:
            return rls.cross_tenant(self._rls_reason)
        if self._rls_org is not None and rls.has_no_context():
            return rls.org_context(self._rls_org)
        return contextlib.nullcontext()

    def _fetch_all(self) -> None:
        with self._in_context():
            super()._fetch_all()

    def count(self) -> int:
        with self._in_context():
            return super().count()

    def exists(self) -> bool:
        with self._in_context():
            return super().exists()

    def aggregate(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        with self._in_context():
            return super().aggregate(*args, **kwargs)

    def update(self, **kwargs: Any) -> int:
        with self._in_context():
            return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        with self._in_context():
            return super().delete()

    def create(self, **kwargs: Any) -> _Row:
        with self._in_context():
            return super().create(**kwargs)

    def get_or_create(self, defaults: Any = None, **kwargs: Any) -> tuple[_Row, bool]:
        with self._in_context():
            return super().get_or_create(defaults, **kwargs)

    def update_or_create(  # type: ignore[override]
        self, defaults: Any = None, **kwargs: Any
    ) -> tuple[_Row, bool]:
        with self._in_context():
            return super().update_or_create(defaults, **kwargs)

    def bulk_create(self, *args: Any, **kwargs: Any) -> list[_Row]:
        with self._in_context():
            return super().bulk_create(*args, **kwargs)

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        with self._in_context():
            return super().bulk_update(*args, **kwargs)

    def iterator(self, *args: Any, **kwargs: Any) -> Any:
        with self._in_context():
            yield from super().iterator(*args, **kwargs)

    def for_org(self, org: Organization) -> Self:
        if org is None or getattr(org, "pk", None) is None:
            # A missing org must never widen a query to every tenant.
            raise ValueError("for_org() needs a saved organization")
        scoped: Self = self.filter(organization=org)
        scoped._rls_org = org.pk
        return scoped

    def dangerously_unscoped(self) -> Self:
        """All organizations' rows. Only for work that is cross-tenant by nature."""
        return self.all()

    def update_versioned(self, **kwargs: Any) -> int:
        return self.update(version=F("version") + 1, updated_at=timezone.now(), **kwargs)


def bulk_update_rows(org: Organization, rows: Sequence[Any], fields: Sequence[str]) -> int:
    """Write ``fields`` of ``rows`` (one model, ``org``'s) in one UPDATE.

    Django's ``bulk_update`` builds a ``CASE WHEN id = ... THEN ...`` per field and row and
    resolves each in Python: for 500 rows of seven fields that takes seconds. On
    PostgreSQL this is one ``UPDATE ... FROM (VALUES ...)`` with the values as
    parameters; elsewhere ``bulk_update``. The organization is in the WHERE clause either
    way. Nothing is bumped here: callers set ``version``/``updated_at`` on the rows."""
    if not rows:
        return 0
    model = type(rows[0])
    if connection.vendor != "postgresql":
        return int(model._default_manager.filter(organization=org).bulk_update(rows, fields))
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    pk = meta.pk
    casts = [f"%s::{pk.db_type(connection)}"] + [f"%s::{f.db_type(connection)}" for f in columns]
    row_sql = "(" + ", ".join(casts) + ")"
    params: list[Any] = []
    for row in rows:
        params.append(pk.get_db_prep_save(row.pk, connection))
        for field in columns:
            params.append(field.get_db_prep_save(getattr(row, field.attname), connection))
    quote = connection.ops.quote_name
    names = [quote(f.column) for f in columns]
    table = quote(meta.db_table)
    sets = ", ".join(f"{name} = v.{name}" for name in names)
    sql = (
        f"UPDATE {table} AS t SET {sets} FROM (VALUES {', '.join([row_sql] * len(rows))})"  # noqa: S608
        f" AS v({quote(pk.column)}, {', '.join(names)})"
        f" WHERE t.{quote(pk.column)} = v.{quote(pk.column)} AND t.organization_id = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, org.pk])
        return int(cursor.rowcount)


class TenantManager(models.Manager[_Row]):
    """``Model.objects``: every read starts from ``for_org`` (or, deliberately, from
    ``dangerously_unscoped``). Typed, so ``Customer.objects.for_org(org)`` is a queryset of
    customers for mypy. A model with queryset methods of its own uses
    ``TenantManager.from_queryset(ItsQuerySet)()``."""

    _queryset_class = TenantQuerySet

    def get_queryset(self) -> TenantQuerySet[_Row]:
        return self._queryset_class(model=self.model, using=self._db)

    def for_org(self, org: Organization) -> TenantQuerySet[_Row]:
        return self.get_queryset().for_org(org)

    def dangerously_unscoped(self) -> TenantQuerySet[_Row]:
        return self.get_queryset().dangerously_unscoped()


class TenantModel(BaseModel):
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+", db_index=True
    )

    objects = TenantManager()

    class Meta:
        abstract = True

    # Outside any tenant context (a service reached from a page outside /o/<slug>/, a
    # command), a row is written as its own organization. Inside one, the context rules:
    # a row of another organization is refused by the database (WITH CHECK).
    def save(self, *args: Any, **kwargs: Any) -> None:
        from accounts import rls

        if rls.has_no_context() and self.organization_id is not None:
            with rls.org_context(self.organization_id):
                return super().save(*args, **kwargs)
        return super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        from accounts import rls

        if rls.has_no_context() and self.organization_id is not None:
            with rls.org_context(self.organization_id):
                return super().delete(*args, **kwargs)
        return super().delete(*args, **kwargs)


def is_tenant_model(model: type[models.Model]) -> bool:
    return issubclass(model, TenantModel)


def access_by_id(queryset: TenantQuerySet[M], org: Organization, obj_id: Any) -> M:
    """The object with this id in this organization, or 404.

    Missing, malformed and foreign ids get the same answer (Zulip's ``access_*_by_id``),
    so a probe cannot tell "exists elsewhere" from "does not exist".
    """
    try:
        if not isinstance(obj_id, uuid.UUID):
            obj_id = uuid.UUID(str(obj_id))
        return queryset.for_org(org).get(pk=obj_id)
    except (ValueError, ValidationError, queryset.model.DoesNotExist):
        raise Http404 from None


def require_same_org(org: Organization, **objects: Any) -> None:
    """Refuse related objects of another organization, by field name (a ValidationError).

    Forms and serializers already resolve ids inside the organization; services check again
    because they are called from tasks, imports and other services too, and tenancy must
    not depend on the caller. ``None`` (no relation) passes. Missing and foreign read the
    same, so the message says nothing about the other tenant.
    """
    from django.utils.translation import gettext as _

    foreign = {
        name: _("Not found in this organization.")
        for name, obj in objects.items()
        if obj is not None and getattr(obj, "organization_id", None) != org.pk
    }
    if foreign:
        raise ValidationError(foreign)


def forbid_overrides(cls: type, names: tuple[str, ...], hint: str) -> None:
    """Refuse, at import time, a subclass that overrides a scoping hook.

    PostHog's ``TeamAndOrgViewSetMixin`` does the same: scoping cannot be forgotten because
    the methods that do it cannot be replaced by accident. Deliberate escapes are named
    ``dangerously_*`` and are visible in review.
    """
    for name in names:
        if name in cls.__dict__:
            raise TypeError(
                f"{cls.__module__}.{cls.__qualname__} overrides {name}(), which scopes queries "
                f"to the organization. {hint}"
            )


def org_queryset(model: type[models.Model], org: Organization) -> models.QuerySet[Any]:
    """The rows of ``model`` that an input field may point at inside ``org``.

    Tenant-owned models are scoped by their organization; people by their membership. Any
    other model is refused, so a new relation cannot silently accept every tenant's ids.
    """
    from django.contrib.auth import get_user_model

    if issubclass(model, TenantModel):
        return model.objects.for_org(org)
    if model is get_user_model():
        return model.objects.filter(memberships__organization=org)
    raise TypeError(
        f"{model.__name__} is neither tenant-owned nor a user; it cannot be an input choice"
    )
