"""Outages (issue 12, part 2): with Redis or PostgreSQL stopped the product answers right
and loses nothing, and it recovers without a restart.

Runs a real server on a Redis and a PostgreSQL that these tests start and stop themselves
(``tests/outage_stack.py``); never the machine's shared ones.
"""

from __future__ import annotations

import os
import shutil
import time
from datetime import UTC, datetime

import pytest

from tests.outage_stack import App, OwnPostgres, OwnRedis, pg_bin

pytestmark = pytest.mark.slow

UNRELAYED = (
    "__import__('followup.kernel.models', fromlist=['Event']).Event.objects"
    ".dangerously_unscoped().filter(relayed_at__isnull=True).count()"
)
TOUCHPOINTS = (
    "__import__('engagements.models', fromlist=['Touchpoint']).Touchpoint.objects"
    ".dangerously_unscoped().filter(summary='Logged during the outage').count()"
)


def _available() -> bool:
    try:
        pg_bin("initdb")
    except FileNotFoundError:
        return False
    return shutil.which("redis-server") is not None


@pytest.fixture(scope="module")
def app():
    if not _available():
        if os.environ.get("FOLLOWUP_REQUIRE_SERVICES"):
            pytest.fail("FOLLOWUP_REQUIRE_SERVICES is set: redis-server and initdb are needed")
        pytest.skip("needs redis-server and PostgreSQL's initdb")
    redis, postgres = OwnRedis(), OwnPostgres()
    redis.start()
    postgres.init()
    stack = App(redis=redis, postgres=postgres)
    try:
        stack.prepare()
        stack.start()
        yield stack
    finally:
        stack.stop()
        redis.stop()
        postgres.destroy()


def _eventually(check, timeout: float = 20):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.5)


def test_with_redis_down_the_api_and_the_quick_log_keep_working(app):
    api = app.api()
    customers = f"{app.base}/api/v1/customers/"
    created = api.post(customers, json={"name": "Before the outage"}, timeout=20)
    assert created.status_code == 201, created.text
    customer_id = created.json()["id"]
    browser = app.browser()
    unrelayed_before = app.count(UNRELAYED)

    app.redis.stop()
    try:
        listed = api.get(customers, timeout=20)
        assert listed.status_code == 200, listed.text
        during = api.post(customers, json={"name": "During the outage"}, timeout=20)
        assert during.status_code == 201, during.text

        # The HTML quick log: saved once, answered as saved (no 500 after the commit, so
        # the rep does not retry and log it twice).
        logged = browser.post(
            f"{app.base}/o/{app.slug}/touchpoints/log/",
            data={
                "customer": customer_id,
                "channel": "call",
                "summary": "Logged during the outage",
                "occurred_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M"),
                "sentiment": "0",
            },
            allow_redirects=False,
            timeout=20,
        )
        assert logged.status_code == 302, logged.text[:2000]
        assert app.count(TOUCHPOINTS) == 1
        # Events of the writes wait in the outbox for the broker.
        assert app.count(UNRELAYED) >= unrelayed_before + 2
        page = browser.get(f"{app.base}/o/{app.slug}/customers/", timeout=20)
        assert page.status_code == 200
    finally:
        app.redis.start()
    assert _eventually(lambda: api.get(customers, timeout=20).status_code == 200)
    # Redis is back: the minute tick of the beat hands out what waited in the outbox.
    app.manage(
        "shell",
        "-c",
        "from followup.kernel import events; events.relay_pending(older_than_seconds=0)",
    )
    assert app.count(UNRELAYED) == 0


def test_with_postgres_down_the_api_and_pages_answer_503_and_recover(app):
    api = app.api()
    customers = f"{app.base}/api/v1/customers/"
    assert api.get(customers, timeout=20).status_code == 200
    browser = app.browser()

    app.postgres.stop()
    try:
        listed = api.get(customers, timeout=20)
        assert listed.status_code == 503, listed.text
        assert listed.headers["Content-Type"] == "application/problem+json"
        assert int(listed.headers["Retry-After"]) > 0
        assert "temporarily unavailable" in listed.json()["detail"]
        write = api.post(customers, json={"name": "Lost?"}, timeout=20)
        assert write.status_code == 503
        page = browser.get(f"{app.base}/o/{app.slug}/customers/", timeout=20)
        assert page.status_code == 503
        assert "Temporarily unavailable" in page.text
        assert int(page.headers["Retry-After"]) > 0
        anonymous = app.api().get(f"{app.base}/accounts/login/", timeout=20)
        assert anonymous.status_code in (200, 503)  # the login page needs no database
        assert app.api().get(f"{app.base}/readyz", timeout=20).status_code == 503
    finally:
        app.postgres.start()

    # Recovers without a restart of the web process.
    assert _eventually(lambda: api.get(customers, timeout=20).status_code == 200)
    assert browser.get(f"{app.base}/o/{app.slug}/customers/", timeout=20).status_code == 200
    names = [c["name"] for c in api.get(customers, timeout=20).json()["results"]]
    assert "Lost?" not in names
