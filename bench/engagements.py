"""Business follow-up at scale: 10,000 customers and 1,000,000 touchpoints in PostgreSQL.

Builds the data set once in its own database (never the test database), then times the
pages a manager and a CRM hit most, reporting p50 / p95 and the number of queries, beside
the same pages of a small organization (20 customers) measured in the same run, and the
ratio of the two:

    .venv/bin/python bench/engagements.py                # build if missing, then measure
    .venv/bin/python bench/engagements.py --rebuild      # drop the data set and build it again
    .venv/bin/python bench/engagements.py --search-only  # only the search box (trigram indexes)
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/followup_bench_x ...

Rows are written with COPY, so building takes a minute or two rather than hours; health is
then computed for every engagement through the real service, so the list's health
filters and the engagement page's signals are what production would show.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/followup_bench"
CUSTOMERS = 10_000
EXTRA_ENGAGEMENTS = 2_000  # some customers have two engagements
TOUCHPOINTS = 1_000_000
REPS = 25
RUNS = 30


def _ensure_database(url: str) -> None:
    import psycopg2

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if not name or "test" in name:
        raise SystemExit(f"Refusing to use database {name!r} for the bench")
    admin = psycopg2.connect(
        host=parsed.hostname,
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        dbname="postgres",
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def _setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_ENV"] = "test"  # no DEBUG overhead, fast hashing, local cache
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "followup.site.settings")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"  # event relays run inline, no broker
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    # Mails the data set triggers (engagements turning red) are not what is measured.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    call_command("migrate", verbosity=0)


def _uuid7_at(when: datetime, rng: random.Random) -> uuid.UUID:
    """A version-7 id for a given time, so ids stay time-ordered like production's."""
    ms = int(when.timestamp() * 1000)
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= rng.getrandbits(12) << 64
    value |= 0b10 << 62
    value |= rng.getrandbits(62)
    return uuid.UUID(int=value)


def _copy(cursor, table: str, columns: list[str], rows) -> None:
    buffer = io.StringIO()

    def flush() -> None:
        buffer.seek(0)
        cursor.copy_expert(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')",
            buffer,
        )
        buffer.seek(0)
        buffer.truncate()

    for count, row in enumerate(rows, start=1):
        buffer.write(",".join("\\N" if v is None else str(v) for v in row) + "\n")
        if count % 100_000 == 0:
            flush()
    flush()


def build(rebuild: bool) -> None:
    from django.db import connection, transaction

    from accounts.models import Membership, Organization, User
    from accounts.roles import Role
    from engagements import services
    from engagements.models import Customer, Engagement

    org = Organization.objects.filter(slug="bench").first()
    if org is not None and not rebuild and Customer.objects.for_org(org).count() >= CUSTOMERS:
        print("Data set present (use --rebuild to build it again).")
        return
    if org is not None:
        print("Dropping the old data set ...")
        org.delete()

    started = time.perf_counter()
    rng = random.Random(20261126)
    now = datetime.now(UTC)
    org = Organization.objects.create(
        name="Bench Industries", slug="bench", timezone="Europe/Berlin"
    )
    manager = User.objects.filter(email="manager@bench.test").first() or User.objects.create_user(
        email="manager@bench.test", password="bench-password", display_name="Bench Manager"
    )
    Membership.objects.create(organization=org, user=manager, role=Role.MANAGER)
    reps = []
    for n in range(REPS):
        email = f"rep{n}@bench.test"
        rep = User.objects.filter(email=email).first() or User.objects.create_user(
            email=email, password="bench-password", display_name=f"Rep {n:02d}"
        )
        Membership.objects.create(organization=org, user=rep, role=Role.MEMBER)
        reps.append(rep)

    industries = ["Manufacturing", "Retail", "Software", "Logistics", "Energy", "Food", "Health"]
    tiers = ["strategic", "key", "standard", "standard", "small"]
    statuses = ["active"] * 7 + ["prospect", "at_risk", "churned"]
    year_ago = now - timedelta(days=365)
    customers, engagements = [], []
    with transaction.atomic(), connection.cursor() as cursor:
        cust_rows = []
        for n in range(CUSTOMERS):
            pk = _uuid7_at(year_ago + timedelta(seconds=n), rng)
            owner = rng.choice(reps)
            customers.append((pk, owner.pk))
            cust_rows.append(
                (
                    pk,
                    org.pk,
                    year_ago,
                    year_ago,
                    1,
                    f"Customer {n:05d} {rng.choice(industries)}",
                    f"crm-{n}",
                    rng.choice(industries),
                    rng.choice(tiers),
                    rng.choice(statuses),
                    owner.pk,
                    rng.randint(10, 5000) * 1000,
                    "EUR",
                    "",
                    None,
                    "",
                    None,
                )
            )
        _copy(
            cursor,
            "engagements_customer",
            [
                "id",
                "organization_id",
                "created_at",
                "updated_at",
                "version",
                "name",
                "external_id",
                "industry",
                "tier",
                "status",
                "owner_id",
                "annual_value",
                "currency",
                "notes",
                "health_score",
                "health_level",
                "last_touch_at",
            ],
            cust_rows,
        )
        eng_rows = []
        owners_of = dict(customers)
        picks = [pk for pk, _o in customers] + rng.sample(
            [pk for pk, _o in customers], EXTRA_ENGAGEMENTS
        )
        for n, customer_pk in enumerate(picks):
            pk = _uuid7_at(year_ago + timedelta(seconds=CUSTOMERS + n), rng)
            engagements.append((pk, customer_pk, owners_of[customer_pk]))
            status = "active" if rng.random() < 0.85 else rng.choice(["paused", "closed"])
            eng_rows.append(
                (
                    pk,
                    org.pk,
                    year_ago,
                    year_ago,
                    1,
                    customer_pk,
                    f"Engagement {n:05d}",
                    "Grow the account",
                    owners_of[customer_pk],
                    status,
                    (year_ago - timedelta(days=rng.randint(0, 900))).date(),
                    rng.choice((7, 14, 21, 30)),
                    f"opp-{n}",
                    None,
                    "",
                    "[]",
                    None,
                    None,
                    None,
                )
            )
        _copy(
            cursor,
            "engagements_engagement",
            [
                "id",
                "organization_id",
                "created_at",
                "updated_at",
                "version",
                "customer_id",
                "name",
                "objective",
                "owner_id",
                "status",
                "started_on",
                "cadence_days",
                "external_id",
                "health_score",
                "health_level",
                "health_signals",
                "health_computed_at",
                "red_since",
                "last_touch_at",
            ],
            eng_rows,
        )
        print(f"  customers and engagements: {time.perf_counter() - started:.0f}s")

        channels = ["call", "email", "meeting", "visit", "chat", "note"]
        # A skewed spread: a few engagements get a lot of attention, most get a little,
        # and some get none for weeks (those turn amber and red).
        weights = [rng.paretovariate(1.2) for _ in engagements]
        chosen = rng.choices(range(len(engagements)), weights=weights, k=TOUCHPOINTS)
        seconds = int((now - year_ago).total_seconds())

        def touchpoint_rows():
            for n, index in enumerate(chosen):
                engagement_pk, customer_pk, owner_pk = engagements[index]
                at = year_ago + timedelta(seconds=rng.randrange(seconds))
                yield (
                    _uuid7_at(at, rng),
                    org.pk,
                    at,
                    at,
                    1,
                    customer_pk,
                    engagement_pk,
                    rng.choice(channels),
                    at,
                    f"Touchpoint {n}",
                    "",
                    rng.choice((None, -1, 0, 1, 1, 2)),
                    rng.choice((None, None, None, 3, 4, 5)),
                    rng.choice((10, 15, 30, 45, 60)),
                    "",
                    None,
                    owner_pk if rng.random() < 0.8 else rng.choice(reps).pk,
                    "ui",
                    "",
                )

        _copy(
            cursor,
            "engagements_touchpoint",
            [
                "id",
                "organization_id",
                "created_at",
                "updated_at",
                "version",
                "customer_id",
                "engagement_id",
                "channel",
                "occurred_at",
                "summary",
                "outcome",
                "sentiment",
                "satisfaction",
                "effort_minutes",
                "next_step",
                "external_id",
                "logged_by_id",
                "source",
                "business_event",
            ],
            touchpoint_rows(),
        )
        print(f"  {TOUCHPOINTS:,} touchpoints: {time.perf_counter() - started:.0f}s")
        cursor.execute(
            """UPDATE engagements_engagement e SET last_touch_at = t.last
               FROM (SELECT engagement_id, max(occurred_at) AS last FROM engagements_touchpoint
                     WHERE organization_id = %s GROUP BY engagement_id) t
               WHERE e.id = t.engagement_id""",
            [org.pk],
        )
        cursor.execute(
            """UPDATE engagements_customer c SET last_touch_at = t.last
               FROM (SELECT customer_id, max(occurred_at) AS last FROM engagements_touchpoint
                     WHERE organization_id = %s GROUP BY customer_id) t
               WHERE c.id = t.customer_id""",
            [org.pk],
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"  loaded: {time.perf_counter() - started:.0f}s; computing health ...")
    ids = list(Engagement.objects.for_org(org).values_list("pk", flat=True))
    for n, engagement_id in enumerate(ids):
        services.engagement_health_refresh(org=org, engagement_id=engagement_id)
        if n % 2000 == 0:
            print(f"    {n:,}/{len(ids):,}")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"Built in {time.perf_counter() - started:.0f}s")


BASELINE = {"customers": 20, "touchpoints_per_engagement": 10}


def build_baseline() -> None:
    """A small organization on the same database: the baseline every figure is divided by,
    so a ratio near 1 says "does not grow with the data"."""
    from accounts.models import Membership, Organization, User
    from accounts.roles import Role
    from engagements import services
    from engagements.models import Customer

    org = Organization.objects.filter(slug="bench-small").first()
    if org is not None and Customer.objects.for_org(org).exists():
        return
    org = org or Organization.objects.create(
        name="Bench Small", slug="bench-small", timezone="Europe/Berlin"
    )
    manager = User.objects.get(email="manager@bench.test")
    Membership.objects.for_org(org).get_or_create(
        organization=org, user=manager, defaults={"role": Role.MANAGER}
    )
    now = datetime.now(UTC)
    for n in range(BASELINE["customers"]):
        customer = services.customer_save(
            org=org, actor=manager, data={"name": f"Small customer {n:02d}", "owner": manager}
        )
        services.engagement_save(
            org=org,
            actor=manager,
            data={
                "customer": customer,
                "name": f"Small engagement {n:02d}",
                "owner": manager,
                "started_on": (now - timedelta(days=400)).date(),
                "cadence_days": 14,
            },
        )
        for k in range(BASELINE["touchpoints_per_engagement"]):
            services.touchpoint_log(
                org=org,
                actor=manager,
                customer=customer,
                channel="call",
                summary=f"Call {k}",
                occurred_at=now - timedelta(days=30 * k + n),
                sentiment=1,
                effort_minutes=15,
            )


def _cases(org, client, api) -> list[tuple[str, object, str]]:
    from django.db.models import Count

    from engagements.models import Customer, Engagement

    slug = org.slug
    busiest = (
        Engagement.objects.for_org(org).annotate(n=Count("touchpoints")).order_by("-n").first()
    )
    customer = Customer.objects.for_org(org).get(pk=busiest.customer_id)
    return [
        ("customer list (name order, page 1)", client, f"/o/{slug}/customers/"),
        (
            "customer list (red, oldest touch)",
            client,
            f"/o/{slug}/customers/?health=red&sort=last_touch",
        ),
        ("customer list (search 'retail')", client, f"/o/{slug}/customers/?q=retail&sort=-value"),
        ("customer page (busiest)", client, f"/o/{slug}/customers/{customer.pk}/"),
        ("engagement page (busiest)", client, f"/o/{slug}/engagements/{busiest.pk}/"),
        ("quick log page", client, f"/o/{slug}/touchpoints/log/"),
        ("effort page (this month, cached)", client, f"/o/{slug}/effort/"),
        ("effort page (after a write)", client, f"/o/{slug}/effort/?fresh"),
        ("API customers, 50", api, "/api/v1/customers/?page_size=50"),
        ("API customers, 200, red", api, "/api/v1/customers/?page_size=200&health_level=red"),
        ("API touchpoints of a customer", api, f"/api/v1/touchpoints/?customer={customer.pk}"),
    ]


def _time(org, who, url) -> tuple[float, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from engagements import selectors

    response = who.get(url)  # warm-up
    assert response.status_code == 200, (url, response.status_code)
    timings = []
    for _ in range(RUNS):
        if url.endswith("?fresh"):
            selectors.effort_changed(org.pk)  # as a touchpoint logged meanwhile would
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            response = who.get(url)
            timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    p95 = timings[min(len(timings) - 1, round(0.95 * len(timings)) - 1)]
    return statistics.median(timings), p95, len(queries.captured_queries)


def measure() -> None:
    from django.test import Client
    from rest_framework.test import APIClient

    from accounts.models import Organization, User
    from accounts.roles import Role
    from accounts.services import api_key_create
    from engagements.models import Customer, Engagement, Touchpoint

    def clients(org):
        client = Client()
        client.force_login(User.objects.get(email="manager@bench.test"))
        key = api_key_create(
            org=org, name="bench", role=Role.ADMIN, created_by=None, granter_role=None
        )
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {key.plain}")
        return client, api

    big, small = (
        Organization.objects.get(slug="bench"),
        Organization.objects.get(slug="bench-small"),
    )
    for org in (big, small):
        print(
            f"{org.name}: {Customer.objects.for_org(org).count():,} customers, "
            f"{Engagement.objects.for_org(org).count():,} engagements, "
            f"{Touchpoint.objects.for_org(org).count():,} touchpoints"
        )
    big_cases = _cases(big, *clients(big))
    small_cases = _cases(small, *clients(small))
    print(
        f"\n{'request':<36} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8} "
        f"{'small p50':>10} {'ratio':>6}"
    )
    for (label, who, url), (_l, small_who, small_url) in zip(big_cases, small_cases, strict=True):
        p50, p95, queries = _time(big, who, url)
        base, _p95, _q = _time(small, small_who, small_url)
        print(f"{label:<36} {p50:>8.1f} {p95:>8.1f} {queries:>8} {base:>10.1f} {p50 / base:>6.1f}")
    busiest = big_cases[3][2].rstrip("/").rsplit("/", 1)[-1]
    engagement = big_cases[4][2].rstrip("/").rsplit("/", 1)[-1]
    measure_logging(big_cases[0][1], big, busiest, engagement)


def measure_logging(client, org, customer_id, engagement_id) -> None:
    """Logging a touchpoint on the busiest engagement: the rep's wait after "Log"."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings, queries = [], 0
    for n in range(RUNS):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.post(
                "/o/bench/touchpoints/log/",
                {
                    "customer": customer_id,
                    "engagement": engagement_id,
                    "channel": "call",
                    "summary": f"Bench call {n}",
                    "sentiment": "1",
                },
                HTTP_HX_REQUEST="true",
            )
            timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200 and b"Bench call" in response.content
        queries = len(captured.captured_queries)
    timings.sort()
    p95 = timings[min(len(timings) - 1, round(0.95 * len(timings)) - 1)]
    label = "quick log POST (busiest engagement)"
    print(f"{label:<38} {statistics.median(timings):>8.1f} {p95:>8.1f} {queries:>8}")


# The header's search box (``followup.kernel.search``): one query per kind, trigram indexes.
SEARCHES = [
    ("'customer' (all 10,000 match)", "customer"),
    ("'retail' (1 in 7 match)", "retail"),
    ("'customer 04242' (two words)", "customer 04242"),
    ("'crm-4242' (a CRM id)", "crm-4242"),
    ("'zqxw' (nothing matches)", "zqxw"),
]


def measure_search() -> None:
    """The search page (20 per kind) and the header's dropdown (5 per kind), big vs small."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User

    client = Client()
    client.force_login(User.objects.get(email="manager@bench.test"))
    dropdown = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "site-search-pop"}

    def timed(slug: str, query: str, headers: dict[str, str]) -> tuple[float, float, int]:
        url = f"/o/{slug}/search/"
        assert client.get(url, {"q": query}, **headers).status_code == 200  # warm-up
        timings = []
        for _ in range(RUNS):
            with CaptureQueriesContext(connection) as queries:
                start = time.perf_counter()
                client.get(url, {"q": query}, **headers)
                timings.append((time.perf_counter() - start) * 1000)
        timings.sort()
        p95 = timings[min(len(timings) - 1, round(0.95 * len(timings)) - 1)]
        return statistics.median(timings), p95, len(queries.captured_queries)

    print(
        f"\n{'search':<44} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8} "
        f"{'small p50':>10} {'ratio':>6}"
    )
    for label, query in SEARCHES:
        for kind, headers in (("page", {}), ("dropdown", dropdown)):
            p50, p95, queries = timed("bench", query, headers)
            base, _p95, _q = timed("bench-small", query, headers)
            name = f"{kind} {label}"
            ratio = p50 / base
            print(f"{name:<44} {p50:>8.1f} {p95:>8.1f} {queries:>8} {base:>10.1f} {ratio:>6.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--measure-only", action="store_true")
    parser.add_argument("--search-only", action="store_true", help="only the search timings")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    _ensure_database(url)
    _setup(url)
    if not args.measure_only:
        build(args.rebuild)
    build_baseline()
    if not args.search_only:
        measure()
    measure_search()


if __name__ == "__main__":
    main()
