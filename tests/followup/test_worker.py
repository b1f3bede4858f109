"""Exactly once with real services: PostgreSQL, Redis and a real ``celery worker`` process.

1,000 reminders due across three organizations; two beat processes tick at once (a
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
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from kombu import Connection

from accounts import rls_schema
from accounts.db_roles import as_owner
from accounts.roles import Role
from followup.engine.models import Channel, FollowUp, Notification, ReminderDelivery
from followup.kernel.models import Event
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


def service_env(log_dir: Path) -> dict[str, str]:
    """Environment of the worker and beat processes: the test database, the real broker,
    and a short claim timeout so a claim of the killed worker is taken over quickly."""
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "DJANGO_ENV": "test",
        "DJANGO_SETTINGS_MODULE": "tests.followup.worker_settings",
        "PYTHONPATH": str(ROOT),
        "FOLLOWUP_VAR_DIR": str(log_dir),
        "FOLLOWUP_CLAIM_TIMEOUT_SECONDS": "4",
        "FOLLOWUP_REMINDER_CHUNK": "10",
    }


class Process:
    """A child process in its own process group, so that SIGKILL takes its children too."""

    def __init__(self, args: list[str], log: Path) -> None:
        self.args = args
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.args, cwd=ROOT, env=service_env(self.log.parent), stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if not self.alive:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


def worker(log: Path) -> Process:
    celery = Path(sys.executable).parent / "celery"
    return Process(
        [str(celery), "-A", "followup.site", "worker", "--concurrency", "2",
         "--loglevel", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        log,
    )  # fmt: skip


def beat(log: Path, interval: float) -> Process:
    return Process([sys.executable, str(ROOT / "tests/followup/beat_loop.py"), str(interval)], log)


def purge_broker() -> None:
    """Nothing left over in the real queue from an earlier run."""
    with Connection(settings.REDIS_URL) as conn:
        conn.default_channel.queue_purge("celery")


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


def test_each_reminder_is_delivered_exactly_once_through_a_worker_crash(tmp_path):
    require_services()
    # The runtime role may not create tables: the owner does, and grants it (apply()).
    with as_owner():
        with connection.cursor() as cursor:
            cursor.execute(mailrecorder.CREATE)
        rls_schema.apply(connection)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {mailrecorder.TABLE}")
    purge_broker()
    orgs = make_due_followups()
    deliveries = ReminderDelivery.objects.dangerously_unscoped()
    log = tmp_path / "services.log"
    the_worker = worker(log)
    beats = [beat(log, interval=0.5), beat(log, interval=0.5)]
    try:
        the_worker.start()
        for each in beats:
            each.start()
        # Mid-run: some reminders sent, most not.
        wait_for(lambda: deliveries.count() >= 300, 90, "the first deliveries")
        the_worker.kill()
        killed_at = deliveries.count()
        the_worker.start()
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
        assert all(each.alive for each in beats), "a beat crashed: " + log.read_text()[-3000:]
    finally:
        for each in [*beats, the_worker]:
            each.stop()
    log = log.read_text(errors="replace")
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
    with as_owner(), connection.cursor() as cursor:  # the owner made it, the owner drops it
        cursor.execute(f"DROP TABLE {mailrecorder.TABLE}")
