from io import StringIO

from django.core.management import call_command

from engagements.models import Customer, Engagement, HealthSnapshot, Touchpoint
from followup.engine.models import Notification
from followup.kernel.demo import DemoContext


def test_the_demo_tells_the_story_once(db, monkeypatch):
    seen: list[DemoContext] = []
    import engagements.demo

    original = engagements.demo.seed
    monkeypatch.setattr(engagements.demo, "seed", lambda ctx: (original(ctx), seen.append(ctx)))
    call_command("seed_demo", stdout=StringIO())
    org = seen[0].org
    counts = (
        Customer.objects.for_org(org).count(),
        Touchpoint.objects.for_org(org).count(),
        HealthSnapshot.objects.for_org(org).count(),
    )
    names = set(Engagement.objects.for_org(org).values_list("name", flat=True))
    assert "Become the industry leader in five years" in names
    drifting = Engagement.objects.for_org(org).get(name="Fleet service renewal")
    assert drifting.health_level == "red"
    cancelled = Customer.objects.for_org(org).get(name="Delta Components")
    assert cancelled.status == "at_risk" and cancelled.health_level in ("amber", "red")
    assert Touchpoint.objects.for_org(org).filter(summary__contains="cancelled").exists()
    # Only the drifting engagement notified (its owner and the manager), not the backfill.
    assert Notification.objects.for_org(org).filter(kind="engagement.turned_red").count() == 2
    assert set(seen[0].extra["customers"]) >= {
        "manufacturer",
        "retailer",
        "software",
        "cancelled",
        "drifting",
    }

    call_command("seed_demo", stdout=StringIO())
    assert counts == (
        Customer.objects.for_org(org).count(),
        Touchpoint.objects.for_org(org).count(),
        HealthSnapshot.objects.for_org(org).count(),
    )
    assert seen[1].extra["customers"]["drifting"].name == "Sunrise Logistics"
