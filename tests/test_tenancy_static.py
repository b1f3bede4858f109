"""A static second lock: no code queries a tenant-owned model except through ``for_org``.

Scans the apps' source (not tests, not migrations) for ``<TenantModel>.objects.<method>``
and accepts only ``for_org``, inserts (``create``, ``bulk_create``), the model's named
``for_*`` entry points (``Membership.objects.for_user``: a person's own memberships)
and ``dangerously_*`` calls, which are cross-tenant on purpose and reviewed as such.
"""

from __future__ import annotations

import ast
from pathlib import Path

from django.apps import apps

from accounts.tenancy import TenantModel

ROOT = Path(__file__).resolve().parent.parent
APPS = ["accounts", "followup", "engagements", "projects", "risks"]
# Inserts read nothing; they must set ``organization`` themselves (a NOT NULL column).
INSERTS = {"create", "bulk_create"}


def _tenant_model_names() -> set[str]:
    return {m.__name__ for m in apps.get_models() if issubclass(m, TenantModel)}


def _violations() -> list[str]:
    names = _tenant_model_names()
    found = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute)):
                    continue
                manager = node.value
                if not (
                    manager.attr in ("objects", "_default_manager", "_base_manager")
                    and isinstance(manager.value, ast.Name)
                    and manager.value.id in names
                ):
                    continue
                method = node.attr
                if method in INSERTS or method.startswith(("for_", "dangerously_")):
                    continue
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                found.append(f"{where} {manager.value.id}.{manager.attr}.{method}")
    return found


def test_tenant_models_are_only_queried_through_for_org():
    assert _violations() == []


def test_the_scan_sees_tenant_models():
    assert {"Membership", "ApiKey", "Invitation", "IdempotencyRecord"} <= _tenant_model_names()


def test_every_tenant_model_has_an_indexed_non_null_organization():
    for model in apps.get_models():
        if issubclass(model, TenantModel):
            field = model._meta.get_field("organization")
            assert not field.null and field.db_index, model


def test_an_override_of_a_scoping_hook_fails_at_import():
    import pytest
    from rest_framework import mixins

    from accounts.mixins import OrgViewMixin
    from followup.kernel.api.viewsets import TenantViewSet

    with pytest.raises(TypeError, match="scope_queryset"):
        type("Sneaky", (mixins.ListModelMixin, TenantViewSet), {"get_queryset": lambda self: None})
    with pytest.raises(TypeError, match="scope_queryset"):
        type("SneakyPage", (OrgViewMixin,), {"get_object": lambda self: None})


def test_for_org_refuses_a_missing_organization():
    import pytest

    from accounts.models import ApiKey

    with pytest.raises(ValueError, match="organization"):
        ApiKey.objects.for_org(None)
