"""Reminders dispatched per second, beside a no-op Celery task baseline, on PostgreSQL + Redis.

    .venv/bin/python bench/reminders.py [--count 100000] [--noop 20000] [--concurrency 2]

Uses its own database (``followup_bench_f``, created when missing, emptied on each run) and
its own Redis database (``redis://127.0.0.1:6379/3``); override with ``--database-url`` and
``--redis-url``. Never point it at the test or development database: it truncates tables.

What is measured, with one real ``celery worker`` (prefork, ``--concurrency``):

1. baseline: N no-op tasks queued at once, until the worker has run them all;
2. reminders: ``--count`` follow-ups due now across 10 organizations; the beat tick
   (``followup.engine.tasks.dispatch_reminders``, run here like beat would) claims them and queues
   ``send_reminders`` batches; the clock stops when no reminder is owed any more. Each
   reminder is three deliveries (in-app notification, e-mail to a dummy backend, the
   ``followup.due`` outbox event, whose relay is one more task per reminder).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--noop", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/followup_bench_f"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/3")
    return parser.parse_args()


def ensure_database(url: str) -> None:
    import psycopg2

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name.startswith("followup_bench"):
        sys.exit(f"Refusing {name!r}: the bench empties its database; use a followup_bench_* one.")
    admin = psycopg2.connect(
        host=parts.hostname, port=parts.port or 5432, user=parts.username or "postgres",
        password=parts.password or None, dbname="postgres",
    )  # fmt: skip
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def start_worker(env: dict[str, str], concurrency: int, log: Path) -> subprocess.Popen:
    celery = Path(sys.executable).parent / "celery"
    return subprocess.Popen(
        [str(celery), "-A", "followup.site", "worker", "--concurrency", str(concurrency),
         "--include", "bench.noop", "--loglevel", "WARNING", "--without-gossip",
         "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip


def stop_worker(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def main() -> None:
    args = parse()
    ensure_database(args.database_url)
    os.environ.update(
        DATABASE_URL=args.database_url,
        REDIS_URL=args.redis_url,
        DJANGO_ENV="test",
        DJANGO_SETTINGS_MODULE="bench.worker_settings",
        FOLLOWUP_VAR_DIR=str(ROOT / "var" / "bench"),
        PYTHONPATH=str(ROOT),
    )
    import django

    django.setup()
    from datetime import timedelta

    import redis
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from accounts.models import Membership, Organization, User
    from accounts.roles import Role
    from bench import noop
    from followup.engine import tasks
    from followup.engine.models import FollowUp, ReminderDelivery
    from followup.site.celery import app

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE followup_reminderdelivery, followup_notification, followup_event, "
            "followup_webhookattempt, followup_webhookdelivery, followup_followup, "
            "accounts_membership, accounts_organization, accounts_user CASCADE"
        )
    app.control.purge()
    counter = redis.Redis.from_url(args.redis_url)
    log = ROOT / "var" / "bench" / "worker.log"
    log.parent.mkdir(parents=True, exist_ok=True)

    print(f"PostgreSQL {connection.pg_version}, Redis {counter.info()['redis_version']}, "
          f"worker concurrency {args.concurrency}, {os.cpu_count()} cores")  # fmt: skip
    worker = start_worker(dict(os.environ), args.concurrency, log)
    try:
        # Warm-up: the worker is ready when it has run one task.
        counter.delete(noop.COUNTER)
        noop.noop.delay()
        while int(counter.get(noop.COUNTER) or 0) < 1:
            time.sleep(0.1)

        # --- Baseline: no-op tasks -------------------------------------------------------
        counter.delete(noop.COUNTER)
        started = time.monotonic()
        for _ in range(args.noop):
            noop.noop.delay()
        queued = time.monotonic() - started
        while int(counter.get(noop.COUNTER) or 0) < args.noop:
            time.sleep(0.05)
        baseline = args.noop / (time.monotonic() - started)
        print(f"no-op tasks: {args.noop} in {time.monotonic() - started:.1f}s "
              f"(queued in {queued:.1f}s) = {baseline:,.0f} tasks/s")  # fmt: skip

        # --- Reminders -------------------------------------------------------------------
        now = timezone.now()
        owners = []
        for n in range(10):
            org = Organization.objects.create(name=f"Bench {n}", slug=f"bench-{n}")
            user = User.objects.create_user(email=f"rep{n}@bench.test", password=None)
            Membership.objects.create(organization=org, user=user, role=Role.MEMBER)
            owners.append((org, user))
        made = time.monotonic()
        batch = []
        for i in range(args.count):
            org, user = owners[i % len(owners)]
            batch.append(
                FollowUp(
                    organization=org,
                    owner=user,
                    title=f"Reminder {i}",
                    due_at=now - timedelta(seconds=1),
                    next_remind_at=now - timedelta(seconds=1),
                    next_remind_offset=0,
                    reminder_offsets=[0],
                )
            )
            if len(batch) == 5000:
                FollowUp.objects.bulk_create(batch)
                batch = []
        FollowUp.objects.bulk_create(batch)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE followup_followup")
        print(f"created {args.count:,} due follow-ups in {time.monotonic() - made:.1f}s")

        owed = FollowUp.objects.dangerously_unscoped().filter(next_remind_at__isnull=False)
        started = time.monotonic()
        claimed = tasks.dispatch_reminders()  # one beat tick claims the whole backlog
        tick = time.monotonic() - started
        while owed.exists():
            time.sleep(0.5)
            if time.monotonic() - started > 3600:
                sys.exit("gave up after an hour")
        elapsed = time.monotonic() - started
        deliveries = ReminderDelivery.objects.dangerously_unscoped().count()
        rate = args.count / elapsed
        print(f"tick claimed {claimed:,} and queued them in {tick:.1f}s")
        print(f"reminders: {args.count:,} in {elapsed:.1f}s = {rate:,.0f} reminders/s "
              f"({deliveries:,} deliveries = {deliveries / elapsed:,.0f}/s)")  # fmt: skip
        print(f"ratio: {rate / baseline:.2f} reminders per no-op task time")
    finally:
        stop_worker(worker)


if __name__ == "__main__":
    main()
