"""The demo's risks (GLOSSARY.md), told once however often seed_demo runs."""

from io import StringIO

from django.core.management import call_command

from accounts.models import Organization
from followup.engine.models import FollowUp
from risks.models import IndicatorValue, Risk, RiskRating


def test_the_demo_tells_the_risk_story_once(db):
    call_command("seed_demo", stdout=StringIO())
    org = Organization.objects.get(slug="demo")
    raw = Risk.objects.for_org(org).get(title="Raw-material prices rise (copper, steel)")
    assert (raw.side, raw.category, raw.indicator_zone) == ("business", "supply_chain", "amber")
    assert IndicatorValue.objects.for_org(org).filter(risk=raw).count() == 8
    assert RiskRating.objects.for_org(org).filter(risk=raw, source="indicator").count() == 1

    software = Risk.objects.for_org(org).filter(project__code="NW-INT", status="open")
    levels = sorted(software.values_list("level", flat=True))
    assert levels.count("high") == 1 and levels.count("medium") >= 2
    red = software.get(level="high")
    assert FollowUp.objects.for_org(org).filter(subject_id=red.pk).count() == 1

    line = Risk.objects.for_org(org).filter(project__code="PL-6M", severity__isnull=False)
    assert line.count() >= 3 and line.filter(post_severity__isnull=False).exists()

    counts = Risk.objects.for_org(org).count(), IndicatorValue.objects.for_org(org).count()
    call_command("seed_demo", stdout=StringIO())
    assert (
        Risk.objects.for_org(org).count(),
        IndicatorValue.objects.for_org(org).count(),
    ) == counts
