"""Exactly once with real services: PostgreSQL, Redis and a real ``celery worker`` process.

1,000 reminders due across three organizations; beat ticks run from two threads at once (a
duplicated beat); the worker is killed with SIGKILL mid-run and started again. At the end
there is exactly one delivery per (occurrence, offset, channel) and exactly one e-mail per
reminder. Skipped without PostgreSQL and Redis; ``FOLLOWUP_REQUIRE_SERVICES=1`` (CI) turns
the skip into a failure.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.roles import Role
from followup import tasks
from followup.models import Channel, Event, FollowUp, Notification, ReminderDelivery
from tests.factories import MembershipFactory, OrganizationFactory
from tests.followup import mailrecorder

ROOT = Path(__file__).resolve().parents[2]
TOTAL = 1000

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def require_services() -> None:
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" in engine and settings.REDIS_URL:
        return
    reason = (
        "needs PostgreSQL and Redis: set DATABASE_URL=postgres://... and REDIS_URL=redis://... "
        f"(have {engine.rsplit('.', 1)[-1]}, REDIS_URL={'set' if settings.REDIS_URL else 'unset'})"
    )
    if os.environ.get("FOLLOWUP_REQUIRE_SERVICES") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] or "postgres"
    if db.get("PASSWORD"):
        auth += ":" + db["PASSWORD"]
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """``celery -A followup worker`` against the test database and the test broker."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "DJANGO_ENV": "test",
            "DJANGO_SETTINGS_MODULE": "tests.followup.worker_settings",
            "PYTHONPATH": str(ROOT),
            "FOLLOWUP_VAR_DIR": str(self.log.parent),
        }
        celery = Path(sys.executable).parent / "celery"
        self.process = subprocess.Popen(
            [str(celery), "-A", "followup", "worker", "--concurrency", "2", "--loglevel",
             "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=self.log.open("ab"), stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: SIGKILL takes the pool too
        )  # fmt: skip

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


class Beats:
    """Two beat schedulers ticking at once, in threads of this process."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.stopping = threading.Event()
        self.errors: list[BaseException] = []
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(2)]

    def _run(self) -> None:
        try:
            while not self.stopping.is_set():
                tasks.dispatch_reminders()
                self.stopping.wait(self.interval)
        except BaseException as exc:  # noqa: BLE001 - reported by the test, not swallowed
            self.errors.append(exc)
        finally:
            connection.close()

    def __enter__(self) -> Beats:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(30)


def recorded_mail() -> list[tuple[str, int]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT reminder, count(*) FROM {mailrecorder.TABLE} GROUP BY reminder")
        return cursor.fetchall()


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"Timed out after {timeout}s waiting for {what}")


def make_due_followups() -> list:
    orgs = []
    now = timezone.now()
    rows = []
    for n in range(3):
        org = OrganizationFactory(name=f"Worker {n}", slug=f"worker-{n}")
        owner = MembershipFactory(organization=org, role=Role.MEMBER).user
        orgs.append(org)
        count = TOTAL // 3 + (1 if n < TOTAL % 3 else 0)
        rows += [
            FollowUp(
                organization=org,
                owner=owner,
                title=f"Call {n}-{i}",
                due_at=now - timedelta(seconds=1),
                next_remind_at=now - timedelta(seconds=1),
                next_remind_offset=0,
                reminder_offsets=[0],
            )
            for i in range(count)
        ]
    FollowUp.objects.bulk_create(rows, batch_size=500)
    return orgs


def test_each_reminder_is_delivered_exactly_once_through_a_worker_crash(tmp_path, settings):
    require_services()
    from followup.celery import app

    settings.FOLLOWUP_CLAIM_TIMEOUT = timedelta(seconds=4)
    settings.FOLLOWUP_REMINDER_CHUNK = 10
    with connection.cursor() as cursor:
        cursor.execute(mailrecorder.CREATE)
        cursor.execute(f"TRUNCATE {mailrecorder.TABLE}")
    app.control.purge()  # nothing left over from other tests in the queue
    orgs = make_due_followups()
    deliveries = ReminderDelivery.objects.dangerously_unscoped()
    worker = Worker(tmp_path / "worker.log")
    try:
        worker.start()
        with Beats(interval=0.5) as beats:
            # Mid-run: some reminders sent, most not.
            wait_for(lambda: deliveries.count() >= 300, 90, "the first deliveries")
            worker.kill()
            killed_at = deliveries.count()
            worker.start()
            wait_for(
                lambda: (
                    deliveries.count() >= 3 * TOTAL
                    and not FollowUp.objects.dangerously_unscoped()
                    .filter(next_remind_at__isnull=False)
                    .exists()
                ),
                150,
                "every reminder",
            )
        assert beats.errors == []
    finally:
        worker.stop()
        log = (tmp_path / "worker.log").read_text(errors="replace")
    assert killed_at < 3 * TOTAL, "the worker finished before it was killed: not a mid-run kill"
    assert deliveries.count() == 3 * TOTAL
    for channel in (Channel.IN_APP, Channel.EMAIL, Channel.EVENT):
        assert deliveries.filter(channel=channel).count() == TOTAL
    mails = recorded_mail()
    assert len(mails) == TOTAL, log[-3000:]
    assert {count for _key, count in mails} == {1}, "an e-mail was sent twice"
    for org in orgs:
        assert Notification.objects.for_org(org).count() == FollowUp.objects.for_org(org).count()
        assert Event.objects.for_org(org).filter(type="followup.due").count() == (
            FollowUp.objects.for_org(org).count()
        )
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {mailrecorder.TABLE}")
