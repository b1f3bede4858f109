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


def _operations(client):
    schema = client.get("/api/schema/?format=json").json()
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method, operation


def _headers(operation) -> set[str]:
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}


def test_every_operation_has_a_summary(client, db):
    """Issue 11, defect 11: OpenAPI operations had no summaries."""
    missing = [f"{m} {p}" for p, m, op in _operations(client) if not op.get("summary")]
    assert missing == []
    summaries = {(p, m): op["summary"] for p, m, op in _operations(client)}
    assert summaries[("/api/v1/followups/", "get")] == "List followups"
    assert summaries[("/api/v1/followups/{id}/complete/", "post")] == "Complete a followup"


def test_writes_document_idempotency_key_and_if_match(client, db):
    """Every POST takes an Idempotency-Key; every item PUT, PATCH and DELETE an If-Match."""
    for path, method, operation in _operations(client):
        if method == "post":
            assert "Idempotency-Key" in _headers(operation), (method, path)
        if method in ("put", "patch", "delete") and path.rstrip("/").endswith("}"):
            assert "If-Match" in _headers(operation), (method, path)
    patch = next(
        op for p, m, op in _operations(client) if (p, m) == ("/api/v1/followups/{id}/", "patch")
    )
    assert "If-Match" in _headers(patch)
