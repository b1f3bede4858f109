"""The monthly effort roll-up stays equal to the sums over the touchpoints, whatever writes
them (issue 13: the effort page reads the roll-up instead of summing a year of
touchpoints), and the page shows a write at once."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone

from engagements import effort, services
from engagements.models import CustomerEffortMonth, EffortMonth, Touchpoint
from tests.engagements.factories import log, make_customer, make_engagement


def _expected(org):
    """What the roll-up must hold, summed from the touchpoints here in Python."""
    people, customers = defaultdict(lambda: [0, 0]), defaultdict(lambda: [0, 0])
    for tp in Touchpoint.objects.for_org(org):
        month = effort.month_of(org, tp.occurred_at)
        for bucket, key in (
            (people, (month, tp.logged_by_id or effort.NOBODY)),
            (customers, (month, tp.customer_id)),
        ):
            bucket[key][0] += tp.effort_minutes
            bucket[key][1] += 1
    return dict(people), dict(customers)


def _rollup(org):
    people = {
        (r.month, r.person_id): [r.minutes, r.touches]
        for r in EffortMonth.objects.for_org(org)
        if r.touches or r.minutes
    }
    customers = {
        (r.month, r.customer_id): [r.minutes, r.touches]
        for r in CustomerEffortMonth.objects.for_org(org)
        if r.touches or r.minutes
    }
    return people, customers


def test_every_write_path_keeps_the_rollup_equal_to_the_touchpoints(org, owner, member, api):
    rng = random.Random(1313)
    now = timezone.now()
    customers = [make_engagement(org).customer for _ in range(3)]
    people = [owner, member, None]
    external = 0
    done = defaultdict(int)

    def when():
        # Across month boundaries: up to four months back.
        return now - timedelta(days=rng.randint(0, 120), hours=rng.randint(0, 23))

    for _step in range(60):
        tps = list(Touchpoint.objects.for_org(org))
        op = rng.choice(
            ["log", "log", "edit", "delete", "bulk", "import", "many", "customer_delete"]
        )
        if op in ("edit", "delete") and not tps:
            op = "log"
        if op == "log":
            log(
                org,
                rng.choice(customers),
                actor=rng.choice(people),
                effort_minutes=rng.randint(0, 90),
                occurred_at=when(),
            )
        elif op == "edit":
            tp = rng.choice(tps)
            data = rng.choice(
                [
                    {"effort_minutes": rng.randint(0, 120)},
                    {"occurred_at": when()},
                    {"customer": rng.choice(customers), "engagement": None},
                    {"summary": "only the words change"},
                ]
            )
            services.touchpoint_update(org=org, actor=owner, touchpoint=tp, data=data)
        elif op == "delete":
            services.touchpoint_delete(org=org, actor=owner, touchpoint=rng.choice(tps))
        elif op == "bulk":
            known = [tp.external_id for tp in tps if tp.external_id]
            items = []
            for _k in range(rng.randint(1, 5)):
                if known and rng.random() < 0.4:
                    external_id = rng.choice(known)  # an update (or a repeat in the batch)
                else:
                    external += 1
                    external_id = f"crm-{external}"
                items.append(
                    {
                        "customer": str(rng.choice(customers).pk),
                        "channel": "call",
                        "summary": "sync",
                        "external_id": external_id,
                        "effort_minutes": rng.randint(0, 60),
                        "occurred_at": when().isoformat(),
                    }
                )
            response = api.post("/api/v1/touchpoints/bulk/", items, format="json")
            assert response.status_code == 201, response.content
        elif op == "import":
            external += 1
            services.upsert_many(
                org=org,
                actor=owner,
                model=Touchpoint,
                rows=[
                    {
                        "customer": rng.choice(customers),
                        "channel": "email",
                        "summary": "imported",
                        "external_id": f"imp-{external}",
                        "effort_minutes": rng.randint(0, 30),
                        "occurred_at": when(),
                        "logged_by": rng.choice([owner, member]),
                    }
                ],
                source=Touchpoint.Source.IMPORT,
            )
        elif op == "many":
            services.touchpoints_log_many(
                org=org,
                actor=member,
                items=[
                    (
                        None,
                        {
                            "customer": rng.choice(customers),
                            "channel": "note",
                            "summary": "many",
                            "effort_minutes": rng.randint(0, 30),
                            "occurred_at": when(),
                        },
                    )
                    for _k in range(rng.randint(1, 4))
                ],
                source=Touchpoint.Source.UI,
            )
        elif op == "customer_delete":
            gone = customers.pop(rng.randrange(len(customers)))
            services.customer_delete(org=org, actor=owner, customer=gone)
            customers.append(make_engagement(org, customer=make_customer(org)).customer)
        done[op] += 1
        assert _rollup(org) == _expected(org), (op, dict(done))
    assert all(done[op] for op in ("log", "edit", "delete", "bulk", "import", "many")), done
    # The command computes the same from scratch.
    before = _rollup(org)
    call_command("rebuild_effort_rollup", "--org", org.slug, verbosity=0)
    assert _rollup(org) == before == _expected(org)


def test_the_effort_page_shows_a_write_at_once(
    owner_client, member_client, org, member, django_capture_on_commit_callbacks
):
    customer = make_engagement(org, customer=make_customer(org, name="Kestrel Foods")).customer
    log(org, customer, actor=member, effort_minutes=30)
    before = owner_client.get("/o/acme/effort/")
    assert before.context["report"].total_minutes == 30  # and now cached

    with django_capture_on_commit_callbacks(execute=True):  # the write commits
        response = member_client.post(
            "/o/acme/touchpoints/log/",
            {
                "customer": str(customer.pk),
                "channel": "visit",
                "summary": "Visited",
                "effort_minutes": "60",
            },
            HTTP_HX_REQUEST="true",
            HTTP_HX_TARGET="quick-log",
        )
    assert response.status_code == 200
    after = owner_client.get("/o/acme/effort/")
    report = after.context["report"]
    assert report.total_minutes == 90
    assert [(row["customer__name"], row["minutes"]) for row in report.by_customer] == [
        ("Kestrel Foods", 90)
    ]
    assert "1.5" in after.content.decode()  # 90 minutes, in hours, on the page


def test_rebuilding_repairs_a_rollup_that_drifted(org, member):
    customer = make_customer(org)
    log(org, customer, actor=member, effort_minutes=25)
    EffortMonth.objects.for_org(org).update(minutes=999)
    CustomerEffortMonth.objects.for_org(org).delete()
    call_command("rebuild_effort_rollup", verbosity=0)
    assert _rollup(org) == _expected(org)
