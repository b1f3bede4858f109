"""The hot write paths on the 1M-touchpoint data set, each beside a bare ORM baseline.

Times, through the whole Django stack (middleware, sessions or API keys, forms or
serializers, services, the transaction), the writes people and CRMs make all day, and in
the same run the bare ORM write of the same rows, so the ratio says what the product adds
on top of the database:

    .venv/bin/python bench/hotwrite.py                    # quick log and bulk upserts
    .venv/bin/python bench/hotwrite.py --only quicklog    # or: bulk, effort
    .venv/bin/python bench/hotwrite.py --src /tmp/base    # the same bench on another checkout
                                                          # (git archive main | tar -x -C ...)

- quick log: the htmx POST of a rep (session, CSRF off as the test client does, an
  Idempotency-Key like the offline outbox sends) on a customer with one active
  engagement; baseline: ``Touchpoint.objects.create`` of one row.
- effort: the effort page right after a touchpoint is logged (its cache made stale as
  the write's commit does), beside the same page served from the cache.
- bulk: ``POST /api/v1/touchpoints/bulk/`` of 500 new touchpoints on 500 customers, the
  same 500 again as updates, and ``POST /api/v1/customers/bulk/`` of 500 new customers and
  then their update; baseline: ``bulk_create`` of 500 rows of the same kind.

Uses the data set of ``bench/engagements.py`` (``BENCH_DATABASE_URL``; built there). Event
relays are published to the in-memory broker and not run: the request is what is timed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/followup_bench"
QUICK_RUNS = 40
BULK_ROUNDS = 3
BULK_SIZE = 500


def _setup(src: Path, url: str) -> None:
    sys.path.insert(0, str(src))
    os.chdir(src)
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_ENV"] = "test"  # no DEBUG overhead, local cache, in-memory broker
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"  # relays are queued, not run inline
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "followup.site.settings")
    import django

    django.setup()
    from django.conf import settings

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.ALLOWED_HOSTS = ["*"]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def quicklog() -> None:
    from django.db import connection
    from django.db.models import Count, Q
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from accounts.models import Organization, User
    from engagements.models import Customer, Engagement, Touchpoint

    org = Organization.objects.get(slug="bench")
    rep = User.objects.get(email="rep0@bench.test")
    customer = (
        Customer.objects.for_org(org)
        .filter(owner=rep)
        .annotate(active=Count("engagements", filter=Q(engagements__status="active")))
        .filter(active=1)
        .order_by("pk")
        .first()
    )
    assert customer is not None
    engagement = Engagement.objects.for_org(org).get(customer=customer, status="active")
    touchpoints = Touchpoint.objects.for_org(org).filter(engagement=engagement).count()
    client = Client()
    client.force_login(rep)
    url = f"/o/{org.slug}/touchpoints/log/"
    htmx = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "quick-log"}

    def post(n: int) -> tuple[float, int]:
        body = {"customer": str(customer.pk), "channel": "call", "summary": f"Bench {n}"}
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            response = client.post(url, body, HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex, **htmx)
            took = (time.perf_counter() - start) * 1000
        assert response.status_code == 200 and b"Bench" in response.content, response.status_code
        counted = [
            q["sql"]
            for q in queries.captured_queries
            if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))
        ]
        if os.environ.get("BENCH_SHOW_QUERIES"):
            print("\n".join(sql[:160] for sql in counted))
        return took, len(counted)

    def bare(n: int) -> float:
        start = time.perf_counter()
        Touchpoint.objects.create(
            organization=org,
            customer=customer,
            engagement=engagement,
            channel="call",
            summary=f"Bare {n}",
            occurred_at=timezone.now(),
            logged_by=rep,
        )
        return (time.perf_counter() - start) * 1000

    post(-1)  # warm-up: session, caches, templates
    bare(-1)
    stack, base, queries = [], [], 0
    for n in range(QUICK_RUNS):  # interleaved, so load from other processes hits both
        took, queries = post(n)
        stack.append(took)
        base.append(bare(n))
    print(
        f"quick log POST (customer {customer.name!r}, engagement with {touchpoints:,} "
        f"touchpoints, {QUICK_RUNS} runs)"
    )
    print(f"  {'':<34} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}")
    p50, base50 = statistics.median(stack), statistics.median(base)
    print(f"  {'through the stack':<34} {p50:>8.1f} {_pct(stack, 0.95):>8.1f} {queries:>8}")
    print(f"  {'bare ORM INSERT (baseline)':<34} {base50:>8.1f} {_pct(base, 0.95):>8.1f} {1:>8}")
    print(f"  ratio (p50 stack / p50 baseline): {p50 / base50:.1f}")
    Touchpoint.objects.for_org(org).filter(summary__startswith="Bare ").delete()


def bulk() -> None:
    import random

    from django.db import connection
    from django.db.models import Count, Q
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone
    from rest_framework.test import APIClient

    from accounts.models import Organization
    from accounts.roles import Role
    from accounts.services import api_key_create
    from engagements.models import Customer, Touchpoint

    org = Organization.objects.get(slug="bench")
    key = api_key_create(
        org=org, name="bulk bench", role=Role.ADMIN, created_by=None, granter_role=None
    )
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key.plain}")
    # Customers with one active engagement: the touchpoint goes to it without being named.
    customer_ids = list(
        Customer.objects.for_org(org)
        .annotate(active=Count("engagements", filter=Q(engagements__status="active")))
        .filter(active=1)
        .values_list("pk", flat=True)
    )
    rng = random.Random(13)
    run = uuid.uuid4().hex[:8]

    def timed(path: str, items: list[dict]) -> tuple[float, int, dict]:
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            response = api.post(path, items, format="json")
            took = time.perf_counter() - start
        assert response.status_code == 201, response.content[:500]
        return took, len(queries.captured_queries), response.json()

    def bare_touchpoints(picks: list) -> float:
        rows = [
            Touchpoint(
                organization=org,
                customer_id=pk,
                channel="call",
                summary="bare",
                source="api",
                occurred_at=timezone.now(),
            )
            for pk in picks
        ]
        start = time.perf_counter()
        Touchpoint.objects.bulk_create(rows)
        return time.perf_counter() - start

    def bare_customers(n: int) -> float:
        rows = [Customer(organization=org, name=f"Bare {run} {n} {k}") for k in range(BULK_SIZE)]
        start = time.perf_counter()
        Customer.objects.bulk_create(rows)
        return time.perf_counter() - start

    # warm-up (serializers, schema of the bulk route)
    timed("/api/v1/customers/bulk/", [{"name": "warm", "external_id": f"warm-{run}"}])
    figures: dict[str, list[float]] = {}
    counts: dict[str, int] = {}
    for r in range(BULK_ROUNDS):
        picks = rng.sample(customer_ids, BULK_SIZE)
        items = [
            {
                "customer": str(pk),
                "channel": "call",
                "summary": f"Sync {run} {r}",
                "external_id": f"bench-{run}-{r}-{k}",
                "sentiment": rng.choice([None, 0, 1, 2]),
                "effort_minutes": 15,
            }
            for k, pk in enumerate(picks)
        ]
        took, q, body = timed("/api/v1/touchpoints/bulk/", items)
        assert body["created"] == BULK_SIZE
        figures.setdefault("touchpoints: 500 new", []).append(took)
        counts["touchpoints: 500 new"] = q
        for item in items:
            item["summary"] += " (edited)"
        took, q, body = timed("/api/v1/touchpoints/bulk/", items)
        assert body["updated"] == BULK_SIZE
        figures.setdefault("touchpoints: 500 updates", []).append(took)
        counts["touchpoints: 500 updates"] = q
        figures.setdefault("bare bulk_create of 500 touchpoints", []).append(
            bare_touchpoints(picks)
        )
        customers = [
            {
                "name": f"Bench {run} {r} {k}",
                "external_id": f"bench-{run}-{r}-{k}",
                "tier": "standard",
            }
            for k in range(BULK_SIZE)
        ]
        took, q, body = timed("/api/v1/customers/bulk/", customers)
        assert body["created"] == BULK_SIZE
        figures.setdefault("customers: 500 new", []).append(took)
        counts["customers: 500 new"] = q
        for item in customers:
            item["tier"] = "key"
        took, q, body = timed("/api/v1/customers/bulk/", customers)
        assert body["updated"] == BULK_SIZE
        figures.setdefault("customers: 500 updates", []).append(took)
        counts["customers: 500 updates"] = q
        figures.setdefault("bare bulk_create of 500 customers", []).append(bare_customers(r))
    print(f"\nbulk upserts, {BULK_SIZE} items, {BULK_ROUNDS} rounds (median seconds)")
    print(f"  {'':<40} {'median s':>9} {'rounds':>22} {'queries':>8}")
    for label, values in figures.items():
        rounds = " / ".join(f"{v:.2f}" for v in values)
        median, queries = statistics.median(values), counts.get(label, 1)
        print(f"  {label:<40} {median:>9.2f} {rounds:>22} {queries:>8}")
    base_t = statistics.median(figures["bare bulk_create of 500 touchpoints"])
    base_c = statistics.median(figures["bare bulk_create of 500 customers"])
    for label in ("touchpoints: 500 new", "touchpoints: 500 updates"):
        print(f"  ratio {label} / bare: {statistics.median(figures[label]) / base_t:.1f}")
    for label in ("customers: 500 new", "customers: 500 updates"):
        print(f"  ratio {label} / bare: {statistics.median(figures[label]) / base_c:.1f}")
    # Leave the data set as it was: the bench's rows go, health and last touch are the
    # next bench's concern (they only move forward on the touched customers).
    Touchpoint.objects.for_org(org).filter(external_id__startswith=f"bench-{run}-").delete()
    Touchpoint.objects.for_org(org).filter(summary="bare").delete()
    Customer.objects.for_org(org).filter(name__startswith=f"Bare {run}").delete()
    Customer.objects.for_org(org).filter(external_id__startswith=f"bench-{run}-").delete()


def effort_page() -> None:
    """The effort page right after a write (the report's cache made stale, as the write's
    commit does), beside the same page served from the cache."""
    from django.test import Client

    from accounts.models import Organization, User
    from engagements import selectors, services
    from engagements.models import Customer, Touchpoint

    org = Organization.objects.get(slug="bench")
    manager = User.objects.get(email="manager@bench.test")
    rep = User.objects.get(email="rep0@bench.test")
    customer = Customer.objects.for_org(org).filter(owner=rep).order_by("pk").first()
    client = Client()
    client.force_login(manager)
    url = f"/o/{org.slug}/effort/"
    assert client.get(url).status_code == 200  # warm-up
    fresh, cached = [], []
    for n in range(QUICK_RUNS):
        services.touchpoint_log(
            org=org,
            actor=rep,
            customer=customer,
            channel="call",
            summary=f"Effort bench {n}",
            effort_minutes=15,
        )
        selectors.effort_changed(org.pk)  # what the write's commit runs
        start = time.perf_counter()
        response = client.get(url)
        fresh.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
        start = time.perf_counter()
        client.get(url)
        cached.append((time.perf_counter() - start) * 1000)
    print(f"\neffort page ({QUICK_RUNS} runs)")
    print(f"  {'':<34} {'p50 ms':>8} {'p95 ms':>8}")
    p50, base50 = statistics.median(fresh), statistics.median(cached)
    print(f"  {'after a write':<34} {p50:>8.1f} {_pct(fresh, 0.95):>8.1f}")
    print(f"  {'from the cache (baseline)':<34} {base50:>8.1f} {_pct(cached, 0.95):>8.1f}")
    print(f"  ratio (after a write / cached): {p50 / base50:.1f}")
    for tp in Touchpoint.objects.for_org(org).filter(summary__startswith="Effort bench "):
        services.touchpoint_delete(org=org, actor=None, touchpoint=tp)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["quicklog", "bulk", "effort"])
    parser.add_argument(
        "--src",
        type=Path,
        default=Path(__file__).resolve().parent.parent,
        help="the checkout whose code is measured (default: this one)",
    )
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    _setup(args.src.resolve(), url)
    print(f"code: {args.src.resolve()}; load average: {os.getloadavg()[0]:.1f}")
    if args.only in (None, "quicklog"):
        quicklog()
    if args.only in (None, "bulk"):
        bulk()
    if args.only in (None, "effort"):
        effort_page()
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
