"""The Celery worker's memory after a batch of tasks (issue 13: under 200 MB).

Starts one real ``celery worker`` (prefork, ``--concurrency``, the bench settings) on its
own database and Redis database, runs ``--noop`` no-op tasks and then ``--reminders`` due
follow-ups through the real reminder pipeline (beat tick, ``send_reminders`` batches,
notifications, e-mail to a dummy backend, outbox relay), and prints the RSS of the worker's
main process and of each pool process:

    .venv/bin/python bench/worker_rss.py [--noop 10000] [--reminders 5000]

Database ``followup_bench_rss`` (emptied on each run), Redis ``redis://127.0.0.1:6379/3``;
override with ``--database-url`` / ``--redis-url``.
"""

from __future__ import annotations

import argparse
import os
import re
import runpy
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmRSS:\s+(\d+) kB", status)
    return int(match.group(1)) / 1024 if match else float("nan")


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--noop", type=int, default=10_000)
    parser.add_argument("--reminders", type=int, default=5_000)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/followup_bench_rss"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/3")
    args = parser.parse_args()
    bench = runpy.run_path(str(ROOT / "bench" / "reminders.py"), run_name="bench_reminders")
    bench["ensure_database"](args.database_url)
    os.environ.update(
        DATABASE_URL=args.database_url,
        REDIS_URL=args.redis_url,
        DJANGO_ENV="test",
        DJANGO_SETTINGS_MODULE="bench.worker_rss_settings",
        FOLLOWUP_VAR_DIR=str(ROOT / "var" / "bench"),
        PYTHONPATH=str(ROOT),
    )
    import django

    django.setup()
    import redis
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from accounts.models import Membership, Organization, User
    from accounts.roles import Role
    from bench import noop
    from followup.engine import tasks
    from followup.engine.models import FollowUp
    from followup.site.celery import app

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE followup_reminderdelivery, followup_notification, followup_event, "
            "followup_followup, accounts_membership, accounts_organization, accounts_user "
            "CASCADE"
        )
    app.control.purge()
    counter = redis.Redis.from_url(args.redis_url)
    log = ROOT / "var" / "bench" / "worker-rss.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    worker = bench["start_worker"](dict(os.environ), args.concurrency, log)
    try:
        counter.delete(noop.COUNTER)
        noop.noop.delay()
        while int(counter.get(noop.COUNTER) or 0) < 1:
            time.sleep(0.1)
        time.sleep(1)
        pool = children(worker.pid)
        before = [rss_mb(worker.pid), *(rss_mb(p) for p in pool)]

        counter.delete(noop.COUNTER)
        started = time.monotonic()
        for _ in range(args.noop):
            noop.noop.delay()
        while int(counter.get(noop.COUNTER) or 0) < args.noop:
            time.sleep(0.1)
        print(f"{args.noop:,} no-op tasks in {time.monotonic() - started:.1f}s")

        now = timezone.now()
        org = Organization.objects.create(name="RSS bench", slug="rss-bench")
        user = User.objects.create_user(email="rep@rss-bench.test", password=None)
        Membership.objects.create(organization=org, user=user, role=Role.MEMBER)
        FollowUp.objects.bulk_create(
            FollowUp(
                organization=org,
                owner=user,
                title=f"Reminder {i}",
                due_at=now - timedelta(seconds=1),
                next_remind_at=now - timedelta(seconds=1),
                next_remind_offset=0,
                reminder_offsets=[0],
            )
            for i in range(args.reminders)
        )
        owed = FollowUp.objects.dangerously_unscoped().filter(next_remind_at__isnull=False)
        started = time.monotonic()
        tasks.dispatch_reminders()
        while owed.exists():
            time.sleep(0.5)
            if time.monotonic() - started > 1800:
                sys.exit("gave up after 30 minutes")
        time.sleep(2)  # the outbox relay tasks queued by the last batch
        print(f"{args.reminders:,} reminders in {time.monotonic() - started:.1f}s")
        after = [rss_mb(worker.pid), *(rss_mb(p) for p in children(worker.pid))]
        print(
            "worker RSS MB (main, pool...): before "
            + ", ".join(f"{v:.0f}" for v in before)
            + "; after "
            + ", ".join(f"{v:.0f}" for v in after)
            + f" (pool processes: {len(pool)} before, {len(after) - 1} after)"
        )
    finally:
        bench["stop_worker"](worker)


if __name__ == "__main__":
    main()
