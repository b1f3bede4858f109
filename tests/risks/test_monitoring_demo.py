"""The demo's monitoring story: a milestone review open a few days ahead, and the cancelled
order escalated into the IT project's risk and hold request, once however often it runs."""

from io import StringIO

from django.core.management import call_command

from accounts.models import Organization
from projects.models import ChangeRequest
from risks.models import Escalation, Risk, RiskReview


def test_the_demo_escalates_the_cancelled_order_once_and_opens_a_review(db):
    call_command("seed_demo", stdout=StringIO())
    org = Organization.objects.get(slug="demo")
    cancelled = Risk.objects.for_org(org).get(signal__rule="cancellation")
    assert cancelled.status == "occurred" and cancelled.side == "business"
    escalated = Risk.objects.for_org(org).get(escalated_from=cancelled)
    assert escalated.project.code == "DLT-IT"
    hold = ChangeRequest.objects.for_org(org).get(project=escalated.project)
    assert hold.changes == [{"kind": "project_status", "status": "on_hold"}]
    open_reviews = RiskReview.objects.for_org(org).filter(project__code="NW-INT", status="open")
    assert open_reviews.exists()
    counts = (
        Risk.objects.for_org(org).count(),
        Escalation.objects.for_org(org).count(),
        ChangeRequest.objects.for_org(org).count(),
        RiskReview.objects.for_org(org).count(),
    )
    call_command("seed_demo", stdout=StringIO())
    assert (
        Risk.objects.for_org(org).count(),
        Escalation.objects.for_org(org).count(),
        ChangeRequest.objects.for_org(org).count(),
        RiskReview.objects.for_org(org).count(),
    ) == counts
