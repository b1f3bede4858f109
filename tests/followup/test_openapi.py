from __future__ import annotations

import json

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_the_schema_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.json"
    # --fail-on-warn turns any drf-spectacular guess (unknown field type, ...) into a failure.
    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--format",
        "openapi-json",
        "--file",
        str(target),
    )
    schema = json.loads(target.read_text())
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/members/" in schema["paths"]
    assert schema["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"


def test_the_schema_is_served_as_json(client, db):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    assert "paths" in response.json()


def test_the_docs_load_nothing_from_a_cdn(client, db):
    body = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in body
    for cdn in ("cdn.jsdelivr", "unpkg.com", "cdnjs"):
        assert cdn not in body
