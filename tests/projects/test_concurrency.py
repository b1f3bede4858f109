"""Concurrent edits of one project (PostgreSQL: real row locks).

Two API clients change two work items of the same project at the same moment, again and
again. Every write locks the project row before any of its rows (the API locks it before the
item it serves), so the writes queue instead of deadlocking, and the stored schedule is the
one a fresh computation gives.
"""

from __future__ import annotations

import itertools
import os
import threading

import pytest
from django.db import connection, connections

from projects import services
from projects.models import WorkItem
from tests.factories import make_api_key
from tests.projects.factories import fresh, item, link, make_project

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        reason = "row locks need PostgreSQL: set DATABASE_URL=postgres://..."
        if os.environ.get("FOLLOWUP_REQUIRE_SERVICES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)


def test_two_clients_editing_one_project_neither_deadlock_nor_leave_a_stale_schedule(
    postgres_only, org
):
    from tests.conftest import api_client

    project = make_project(org)
    chain = [item(org, project, f"Step {k}", 2) for k in range(8)]
    for a, b in itertools.pairwise(chain):
        link(org, a, b)
    keys = [make_api_key(org, "member")[1] for _ in range(2)]
    errors: list[str] = []
    start = threading.Barrier(2)

    def edit(key: str, target: WorkItem) -> None:
        client = api_client(key)
        try:
            for days in range(3, 9):
                start.wait(timeout=30)
                response = client.patch(
                    f"/api/v1/work-items/{target.pk}/", {"duration_days": days}, format="json"
                )
                if response.status_code != 200:
                    errors.append(f"{response.status_code} {response.content[:200]!r}")
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=edit, args=(keys[0], chain[0])),
        threading.Thread(target=edit, args=(keys[1], chain[-1])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert (fresh(chain[0]).duration_days, fresh(chain[-1]).duration_days) == (8, 8)
    project = fresh(project)
    # What is stored is what the last state computes to: nothing left to change.
    assert (
        services.project_reschedule(org=org, project=project).schedule_duration_days == 6 * 2 + 16
    )
    assert services._refresh(org, project) == 0
