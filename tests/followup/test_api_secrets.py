"""Secrets an API response shows once are never stored, not even for Idempotency-Key replays.

A replay of a request that created a secret answers like the first response (same status,
same object) with each secret replaced by ``null`` and ``redacted`` naming those fields.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest
from rest_framework import serializers

from accounts.roles import Role
from followup.kernel.api.serializers import SecretField
from followup.kernel.models import IdempotencyRecord
from tests.conftest import api_client
from tests.factories import make_api_key

# Every POST whose response carries a secret, with a body that creates one and the field.
SECRET_BEARING = [
    pytest.param("/api/v1/api-keys/", {"name": "crm", "role": "member"}, "key", id="api-key"),
    pytest.param(
        "/api/v1/webhooks/",
        {"url": "http://127.0.0.1:9/hook", "event_types": ["followup.completed"]},
        "secret",
        id="webhook",
    ),
]


@pytest.mark.parametrize(("url", "body", "field"), SECRET_BEARING)
def test_a_replay_by_another_admin_key_never_gets_the_secret(api, org, url, body, field):
    first = api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="create-1")
    assert first.status_code == 201, first.content
    secret = first.json()[field]
    assert secret and "redacted" not in first.json()

    stored = IdempotencyRecord.objects.for_org(org).get(key="create-1")
    assert secret.encode() not in bytes(stored.response_body)

    other_admin = api_client(make_api_key(org, Role.ADMIN, name="other admin")[1])
    replay = other_admin.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="create-1")
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    assert secret not in replay.content.decode()
    data = replay.json()
    assert data[field] is None and data["redacted"] == [field]
    assert data["id"] == first.json()["id"]
    assert {k: v for k, v in data.items() if k not in (field, "redacted")} == {
        k: v for k, v in first.json().items() if k != field
    }
    assert first["Cache-Control"] == "no-store"  # nor kept by a proxy or the client's cache


API_PACKAGES = ("accounts.api", "followup.engine.api", "engagements.api")


def _project_serializers() -> list[type[serializers.BaseSerializer]]:
    """Every serializer class the project's API modules define or use."""
    found: dict[str, type[serializers.BaseSerializer]] = {}
    for package in API_PACKAGES:
        path = importlib.import_module(package).__path__
        for info in pkgutil.iter_modules(path):
            module = importlib.import_module(f"{package}.{info.name}")
            for _name, value in inspect.getmembers(module, inspect.isclass):
                if issubclass(value, serializers.BaseSerializer) and value.__module__.startswith(
                    ("accounts", "followup", "engagements", "projects", "risks")
                ):
                    found[f"{value.__module__}.{value.__qualname__}"] = value
    return list(found.values())


SECRET_NAME = re.compile(r"(secret|token|password|plain|^key$|_key$)")


def test_every_field_that_looks_like_a_secret_is_a_secret_field():
    """A new secret-bearing response must mark its field, or this test names it."""
    secret_fields = set()
    for serializer_class in _project_serializers():
        if issubclass(serializer_class, serializers.ModelSerializer) and not hasattr(
            serializer_class, "Meta"
        ):
            continue  # an abstract base (TenantModelSerializer)
        for name, field in serializer_class().fields.items():
            if SECRET_NAME.search(name):
                assert isinstance(field, SecretField), (
                    f"{serializer_class.__qualname__}.{name} looks like a secret: declare it as "
                    "followup.kernel.api.serializers.SecretField so replays never store it"
                )
                secret_fields.add(f"{serializer_class.__qualname__}.{name}")
    # Guards against an enumeration that finds nothing.
    assert {"ApiKeyCreatedSerializer.key", "WebhookEndpointCreatedSerializer.secret"} <= (
        secret_fields
    )
