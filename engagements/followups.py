"""Business follow-up meets the follow-up engine.

Customers and engagements are followable subjects; a touchpoint can answer a follow-up
(completing it, and so scheduling the next of a cadence); and overdue follow-ups weigh on
the health of the engagements they concern, recomputed whenever a follow-up changes.
The engine knows none of this: it reaches us through its subject registry and the outbox.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Organization
from engagements.models import Customer, Engagement, Touchpoint
from followup.engine.models import FollowUp, FollowUpStatus
from followup.engine.selectors import followups, open_for_subjects, with_subjects
from followup.kernel import events, subjects
from followup.kernel.models import Event

FOLLOWUP_EVENTS = {
    "followup.created",
    "followup.updated",
    "followup.due",
    "followup.completed",
    "followup.deleted",
}


def _customer_url(customer: Customer) -> str:
    return reverse(
        "engagements:customer_detail",
        kwargs={"org_slug": customer.organization.slug, "pk": customer.pk},
    )


def _engagement_url(engagement: Engagement) -> str:
    return reverse(
        "engagements:engagement_detail",
        kwargs={"org_slug": engagement.organization.slug, "pk": engagement.pk},
    )


def answer_url(followup: FollowUp) -> str:
    """The quick log, set up to answer (and complete) this follow-up."""
    path = reverse("engagements:quick_log", kwargs={"org_slug": followup.organization.slug})
    return f"{path}?followup={followup.pk}"


def register() -> None:
    answer = (gettext_lazy("Log touchpoint"), answer_url)
    subjects.register(
        "customer",
        Customer,
        label=gettext_lazy("Customer"),
        url=_customer_url,
        describe=lambda customer: customer.name,
        related=("organization",),
        answer=answer,
    )
    subjects.register(
        "engagement",
        Engagement,
        label=gettext_lazy("Engagement"),
        url=_engagement_url,
        describe=lambda engagement: f"{engagement.name} · {engagement.customer.name}",
        related=("organization", "customer"),
        answer=answer,
    )
    events.subscribe("engagements.health", refresh_health_on_followup_change, types=FOLLOWUP_EVENTS)


def for_customer(org: Organization, customer: Customer) -> QuerySet[FollowUp]:
    """Open follow-ups about the customer or any of its engagements, soonest first.

    Lazy: the engagements are a subquery, so a form that never renders or validates the
    field costs nothing."""
    customer_type = subjects.for_model(Customer)
    engagement_type = subjects.for_model(Engagement)
    if customer_type is None or engagement_type is None:
        return FollowUp.objects.for_org(org).none()
    engagement_ids = Engagement.objects.for_org(org).filter(customer=customer).values("pk")
    return (
        followups(org)
        .filter(status=FollowUpStatus.OPEN)
        .filter(
            Q(subject_type=subjects.content_type_for(customer_type.key), subject_id=customer.pk)
            | Q(
                subject_type=subjects.content_type_for(engagement_type.key),
                subject_id__in=engagement_ids,
            )
        )
        .order_by("due_at", "pk")
    )


def for_engagement(org: Organization, engagement: Engagement) -> QuerySet[FollowUp]:
    """Open follow-ups about the engagement or its customer: the ones its health counts."""
    return (
        open_for_subjects(org, Engagement, [engagement.pk])
        | open_for_subjects(org, Customer, [engagement.customer_id])
    ).order_by("due_at", "pk")


def page_rows(org: Organization, queryset: QuerySet[FollowUp], limit: int = 20) -> list[FollowUp]:
    """Rows for a subject's page, with their subjects attached (one query per type)."""
    return with_subjects(org, queryset[:limit])


def subject_of(org: Organization, followup: FollowUp) -> tuple[Customer | None, Engagement | None]:
    """The customer (and engagement) a follow-up is about; (None, None) for other subjects."""
    entry = subjects.for_content_type(followup.subject_type_id)
    if entry is None or followup.subject_id is None:
        return None, None
    if entry.model is Engagement:
        engagement = (
            Engagement.objects.for_org(org)
            .select_related("customer")
            .filter(pk=followup.subject_id)
            .first()
        )
        return (engagement.customer, engagement) if engagement else (None, None)
    if entry.model is Customer:
        return Customer.objects.for_org(org).filter(pk=followup.subject_id).first(), None
    return None, None


def check_answer(
    org: Organization, followup: FollowUp, customer: Customer, engagement: Engagement | None
) -> None:
    """A touchpoint may answer an open follow-up about its customer (or a standalone one)."""
    if followup.organization_id != org.pk:
        raise ValidationError({"followup": _("No such follow-up in this organization.")})
    if followup.status != FollowUpStatus.OPEN:
        raise ValidationError({"followup": _("This follow-up is no longer open.")})
    about_customer, about_engagement = subject_of(org, followup)
    if followup.subject_id is None:
        return
    if about_customer is None or about_customer.pk != customer.pk:
        raise ValidationError(
            {"followup": _("This follow-up is about another customer than the touchpoint.")}
        )
    if about_engagement is not None and engagement is not None and about_engagement != engagement:
        raise ValidationError(
            {"followup": _("This follow-up is about another engagement than the touchpoint.")}
        )


def complete_with(*, followup: FollowUp, touchpoint: Touchpoint, actor: Any) -> None:
    """Inside the touchpoint's transaction: the follow-up is done, answered by it."""
    from followup.engine import services as followup_services

    try:
        followup_services.followup_complete(
            followup=followup,
            actor=actor,
            answered_by_type="touchpoint",
            answered_by_id=touchpoint.pk,
        )
    except followup_services.TransitionError:
        # Someone completed it a moment ago: the rep's touchpoint must not pretend otherwise.
        raise ValidationError({"followup": _("This follow-up is no longer open.")}) from None


def refresh_health_on_followup_change(event: Event) -> None:
    """Outbox subscriber: a follow-up about an engagement or customer moved; so may health."""
    if event.type not in FOLLOWUP_EVENTS:
        return
    from engagements import services

    org = event.organization
    key, subject_id = event.payload.get("subject_type"), event.payload.get("subject_id")
    if key == "engagement" and subject_id:
        ids = list(
            Engagement.objects.for_org(org).filter(pk=subject_id).values_list("pk", flat=True)
        )
    elif key == "customer" and subject_id:
        ids = list(
            Engagement.objects.for_org(org)
            .filter(customer_id=subject_id, status=Engagement.Status.ACTIVE)
            .values_list("pk", flat=True)
        )
    else:
        return
    for engagement_id in ids:
        services.engagement_health_refresh(org=org, engagement_id=engagement_id)
