"""``GET /api/v1/`` is an index of the API's resources (issue 11, defect 11: it was a 404)."""

from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_the_api_root_lists_every_resource_and_each_one_answers(api, client):
    response = client.get("/api/v1/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    index = response.json()
    resources = index["resources"]
    for name in ("followup", "customer", "engagement", "touchpoint", "project", "member"):
        assert name in resources, sorted(resources)
    assert index["schema"].endswith("/api/schema/")
    for name, url in resources.items():
        path = url.split("://", 1)[1].split("/", 1)[1]
        answer = api.get("/" + path)
        assert answer.status_code == 200, (name, url, answer.status_code)
