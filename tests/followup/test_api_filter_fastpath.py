"""API lists skip building a filter set when the request filters nothing, and filter (and
refuse bad filters) exactly as before when it does."""

from __future__ import annotations

import django_filters
import pytest

from tests.conftest import api_client
from tests.engagements.factories import make_customer
from tests.factories import make_api_key


@pytest.fixture
def built(monkeypatch):
    made = []
    real = django_filters.FilterSet.__init__

    def counting(self, *args, **kwargs):
        made.append(type(self).__name__)
        real(self, *args, **kwargs)

    monkeypatch.setattr(django_filters.FilterSet, "__init__", counting)
    return made


@pytest.fixture
def api(org):
    return api_client(make_api_key(org)[1])


def test_a_list_without_filters_builds_no_filter_set(api, org, built):
    make_customer(org, name="Alpha")
    response = api.get("/api/v1/customers/", {"page_size": "10"})
    assert response.status_code == 200
    assert [row["name"] for row in response.json()["results"]] == ["Alpha"]
    assert built == []


def test_a_filtered_list_still_filters(api, org, built):
    make_customer(org, name="Alpha", tier="key")
    make_customer(org, name="Beta", tier="standard")
    response = api.get("/api/v1/customers/", {"tier": "key"})
    assert [row["name"] for row in response.json()["results"]] == ["Alpha"]
    assert built == ["CustomerFilter"]


def test_a_bad_filter_is_still_a_400(api, org):
    response = api.get("/api/v1/customers/", {"updated_after": "2026-02-30T00:00:00+00:00"})
    assert response.status_code == 400
    assert "updated_after" in str(response.json())
