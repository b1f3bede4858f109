"""Milestone risk reviews: scheduled from each milestone's planned date, opened by the beat.

A review is due ``lead`` working days (project calendar) before its milestone's current
planned date (``WorkItem.early_finish``), at the start of the organization's working day.
``sync_project`` keeps one pending review per milestone in step with the schedule (the
pending one moves when the milestone moves); ``tick`` opens the due ones, exactly once:

- due rows are claimed with ``followup.kernel.claims`` (two beats claim disjoint rows, a
  claim of a killed worker is taken over after the timeout);
- ``open_review`` locks the row and changes its status from scheduled to open in the one
  transaction that creates the manager's follow-up and records ``milestone.review_due``; a
  second attempt finds it open and does nothing.

A milestone whose date has already passed (not reached) gets its review at once, marked
late. An open review past its milestone's date is escalated to the project's sponsor once
(a notification with a dedupe key, and ``escalated_at``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts import audit
from accounts.models import Organization, User
from accounts.rls import cross_tenant, org_context
from accounts.selectors import is_member
from followup.engine import notifications
from followup.engine import services as followups
from followup.engine.models import FollowUpStatus
from followup.kernel import claims, events
from projects import selectors as project_selectors
from projects import services as project_services
from projects.gates import Verdict
from projects.models import Phase, Project, ProjectStatus, WorkItem
from risks.models import ReviewPolicy, ReviewStatus, RiskReview

DEFAULT_LEAD_WORKING_DAYS = 5
MAX_LEAD_WORKING_DAYS = 60
# When the working day starts, in the organization's time zone: reviews open then.
OPENING_HOUR = 8
# Projects whose milestones get reviews.
LIVE = (ProjectStatus.PROPOSED, ProjectStatus.ACTIVE)


class ReviewRefused(ValidationError):
    pass


# --- Settings -----------------------------------------------------------------------------


def org_lead_days(org: Organization) -> int:
    """``settings["risks"]["review_lead_working_days"]`` of the organization, else 5."""
    stored = ((org.settings or {}).get("risks") or {}).get("review_lead_working_days")
    if isinstance(stored, int) and not isinstance(stored, bool):
        return max(0, min(MAX_LEAD_WORKING_DAYS, stored))
    return DEFAULT_LEAD_WORKING_DAYS


def lead_days(org: Organization, project: Project) -> int:
    """The project's own lead time if it has one, else the organization's."""
    policy = ReviewPolicy.objects.for_org(org).filter(project=project).first()
    return policy.lead_working_days if policy is not None else org_lead_days(org)


def policy_set(
    *, org: Organization, actor: User | None, project: Project, lead_working_days: int | None
) -> None:
    """Give a project its own review lead time (None: back to the organization's)."""
    if project.organization_id != org.pk:
        raise ReviewRefused(_("Choose a project of this organization."))
    if lead_working_days is not None and not 0 <= lead_working_days <= MAX_LEAD_WORKING_DAYS:
        raise ReviewRefused(
            _("The review lead time is between 0 and %(max)d working days.")
            % {"max": MAX_LEAD_WORKING_DAYS}
        )
    with transaction.atomic():
        locked = project_services.lock_project(org, project.pk)
        if locked is None:
            raise ReviewRefused(_("Choose a project of this organization."))
        existing = ReviewPolicy.objects.for_org(org).filter(project=locked)
        if lead_working_days is None:
            existing.delete()
        elif not existing.update_versioned(lead_working_days=lead_working_days):
            ReviewPolicy.objects.create(
                organization=org, project=locked, lead_working_days=lead_working_days
            )
        audit.record(
            org=org,
            action="risk_review.policy_set",
            actor=actor,
            obj=locked,
            changes={"review_lead_working_days": [None, lead_working_days]},
        )
        _sync_locked(org, locked, timezone.now())


# --- Scheduling ---------------------------------------------------------------------------


def due_moment(org: Organization, project: Project, planned: date, lead: int) -> datetime:
    """The start of the working day ``lead`` working days before ``planned``."""
    calendar = project_selectors.project_calendar(project)
    day = calendar.add(planned, -lead) if lead else planned
    zone = project_selectors.org_zone(org)
    return datetime.combine(day, time(OPENING_HOUR), tzinfo=zone)


@dataclass(frozen=True)
class Synced:
    created: int = 0
    moved: int = 0
    removed: int = 0


def sync_project(*, org: Organization, project_id: Any, now: datetime | None = None) -> Synced:
    """Bring the project's reviews in line with its milestones' planned dates. Idempotent."""
    now = now or timezone.now()
    with transaction.atomic():
        project = project_services.lock_project(org, project_id)
        if project is None:
            return Synced()
        return _sync_locked(org, project, now)


def _sync_locked(org: Organization, project: Project, now: datetime) -> Synced:
    reviews = RiskReview.objects.for_org(org).filter(project=project)
    if project.status not in LIVE:
        # A project on hold, closed or cancelled has no milestone to review for now.
        removed, _rows = reviews.filter(status=ReviewStatus.SCHEDULED).delete()
        return Synced(removed=removed)
    lead = lead_days(org, project)
    today = project_selectors.org_today(org, now)
    milestones = list(project_selectors.milestones(org, project).filter(early_finish__isnull=False))
    by_milestone: dict[Any, list[RiskReview]] = {}
    for review in reviews.select_for_update():
        by_milestone.setdefault(review.milestone_id, []).append(review)
    created = moved = 0
    for milestone in milestones:
        planned = milestone.early_finish
        assert planned is not None
        own = by_milestone.get(milestone.pk, [])
        pending = next((r for r in own if r.status in RiskReview.PENDING), None)
        due = due_moment(org, project, planned, lead)
        if pending is not None:
            if pending.planned_date != planned or (
                pending.status == ReviewStatus.SCHEDULED and pending.due_at != due
            ):
                changed = ["planned_date"]
                pending.planned_date = planned
                if pending.status == ReviewStatus.SCHEDULED:
                    pending.due_at = due
                    pending.late = planned < today
                    changed += ["due_at", "late"]
                pending.save(update_fields=changed)
                moved += 1
            continue
        if milestone.is_done or any(r.planned_date == planned for r in own):
            continue  # reached, or this date's review is signed off already
        try:
            with transaction.atomic():
                RiskReview.objects.create(
                    organization=org,
                    project=project,
                    milestone=milestone,
                    planned_date=planned,
                    due_at=due,
                    late=planned < today,
                    reviewer=project.manager,
                )
        except IntegrityError:
            continue  # a concurrent run scheduled it
        created += 1
    return Synced(created=created, moved=moved)


def sync_all(*, now: datetime | None = None) -> int:
    """The sweep: every live project of every organization (milestones also move through
    calendar and template changes that no event names)."""
    now = now or timezone.now()
    with cross_tenant("milestone review sweep"):
        # Cross-tenant by nature: the beat finds the live projects of every organization.
        rows = list(
            Project.objects.dangerously_unscoped()
            .filter(status__in=LIVE)
            .values_list("organization_id", "pk")
        )
        stale = list(
            RiskReview.objects.dangerously_unscoped()
            .filter(status=ReviewStatus.SCHEDULED)
            .exclude(project__status__in=LIVE)
            .values_list("organization_id", "project_id")
            .distinct()
        )
    orgs: dict[Any, Organization] = {}
    count = 0
    for org_id, project_id in [*rows, *stale]:
        org = orgs.get(org_id) or Organization.objects.get(pk=org_id)
        orgs[org_id] = org
        with org_context(org_id):
            result = sync_project(org=org, project_id=project_id, now=now)
        count += result.created + result.moved
    return count


def project_of_event(org: Organization, event: Any) -> Any:
    """The project an event of project follow-up is about, if any."""
    project = (event.payload or {}).get("project")
    if project:
        return project
    if event.subject_type == "project":
        return event.subject_id
    if event.subject_type == "work_item" and event.subject_id:
        return (
            WorkItem.objects.for_org(org)
            .filter(pk=event.subject_id)
            .values_list("project_id", flat=True)
            .first()
        )
    return None


def on_schedule_event(event: Any) -> None:
    """Outbox subscriber: a milestone may have moved; move its pending review with it."""
    org = event.organization
    project_id = project_of_event(org, event)
    if project_id is not None:
        with org_context(org.pk):
            sync_project(org=org, project_id=project_id)


# --- Opening ------------------------------------------------------------------------------


def claim(*, now: datetime | None = None, batch: int = 500) -> claims.Claimed:
    now = now or timezone.now()
    # Cross-tenant by nature: the beat claims due reviews of every organization.
    due = RiskReview.objects.dangerously_unscoped().filter(
        status=ReviewStatus.SCHEDULED, due_at__lte=now
    )
    with cross_tenant("milestone review tick"):
        return claims.claim_due(
            due,
            due_field="due_at",
            claimed_at_field="claimed_at",
            claim_field="claim",
            now=now,
            timeout=settings.FOLLOWUP_CLAIM_TIMEOUT,
            batch=batch,
        )


def review_url(review: RiskReview) -> str:
    return reverse(
        "risks:review_detail",
        kwargs={"org_slug": review.organization.slug, "pk": review.pk},
    )


def open_review(
    *,
    org: Organization,
    review_id: Any,
    token: uuid.UUID | None = None,
    now: datetime | None = None,
) -> bool:
    """Open a due review: the manager's follow-up and ``milestone.review_due``, once."""
    now = now or timezone.now()
    with transaction.atomic():
        review = (
            RiskReview.objects.for_org(org)
            .select_for_update(of=("self",))
            .select_related("project", "milestone", "organization")
            .filter(pk=review_id)
            .first()
        )
        # The locked status is what makes this once: a task holding a claim that a later
        # tick took over (its worker was slow, not dead) still opens a review left
        # scheduled, and finds an opened one open. Skipping on a stale token instead would
        # starve the reviews behind a backlog of re-claimed tasks.
        if review is None or review.status != ReviewStatus.SCHEDULED:
            return False
        project = review.project
        today = project_selectors.org_today(org, now)
        manager = project.manager
        review.status = ReviewStatus.OPEN
        review.opened_at = now
        review.late = review.planned_date < today
        review.claim = None
        review.claimed_at = None
        review.reviewer = manager if manager is not None and is_member(org, manager) else None
        changed = ["status", "opened_at", "late", "claim", "claimed_at", "reviewer"]
        if review.reviewer is not None:
            zone = project_selectors.org_zone(org)
            due_at = max(now, datetime.combine(review.planned_date, time(OPENING_HOUR), zone))
            review.followup = followups.followup_create(
                org=org,
                actor=None,
                title=_("Risk review: %(milestone)s (%(project)s)")
                % {"milestone": review.milestone.name, "project": project.code},
                owner=review.reviewer,
                due_at=due_at,
                subject=review.milestone,
                reminder_offsets=[0],
            )
            changed.append("followup")
            notifications.notify(
                org=org,
                recipients=[review.reviewer],
                kind="risk_review.due",
                params={"milestone": review.milestone.name, "project": project.code},
                url=review_url(review),
                subject=review,
                dedupe_key=f"risk_review.due:{review.pk}",
            )
        review.save(update_fields=changed)
        events.record(
            org=org,
            type="milestone.review_due",
            subject=review.milestone,
            payload=review_payload(review),
        )
    return True


def open_batch(*, org: Organization, review_ids: Iterable[Any], token: uuid.UUID) -> int:
    opened = 0
    with org_context(org.pk):
        for review_id in review_ids:
            opened += open_review(org=org, review_id=review_id, token=token)
    return opened


def review_payload(review: RiskReview) -> dict[str, Any]:
    return {
        "review": str(review.pk),
        "project": str(review.project_id),
        "milestone": str(review.milestone_id),
        "planned_date": review.planned_date.isoformat(),
        "due_at": review.due_at.isoformat(),
        "status": review.status,
        "late": review.late,
    }


# --- Overdue: the sponsor hears of it -----------------------------------------------------


def escalate_overdue(*, now: datetime | None = None) -> int:
    """Open reviews past their milestone's date go to the project's sponsor, once each."""
    now = now or timezone.now()
    with cross_tenant("overdue milestone reviews"):
        # Cross-tenant by nature: the beat finds overdue reviews of every organization;
        # each is then handled inside its organization. A day of margin for time zones.
        rows = list(
            RiskReview.objects.dangerously_unscoped()
            .filter(
                status=ReviewStatus.OPEN,
                escalated_at__isnull=True,
                planned_date__lt=(now + timedelta(days=1)).date(),
            )
            .values_list("organization_id", "pk")
        )
    count = 0
    for org_id, review_id in rows:
        org = Organization.objects.get(pk=org_id)
        with org_context(org_id):
            count += escalate_one(org=org, review_id=review_id, now=now)
    return count


def escalate_one(*, org: Organization, review_id: Any, now: datetime) -> bool:
    with transaction.atomic():
        review = (
            RiskReview.objects.for_org(org)
            .select_for_update(of=("self",))
            .select_related("project", "milestone", "organization")
            .filter(pk=review_id, status=ReviewStatus.OPEN, escalated_at__isnull=True)
            .first()
        )
        if review is None or review.planned_date >= project_selectors.org_today(org, now):
            return False
        review.escalated_at = now
        review.save(update_fields=["escalated_at"])
        sponsor = review.project.sponsor
        if sponsor is not None:
            notifications.notify(
                org=org,
                recipients=[sponsor],
                kind="risk_review.overdue",
                params={"milestone": review.milestone.name, "project": review.project.code},
                url=review_url(review),
                subject=review,
                dedupe_key=f"risk_review.overdue:{review.pk}",
            )
    return True


def tick(*, now: datetime | None = None) -> claims.Claimed:
    """Schedule, then claim what is due (the caller hands the claimed rows to workers)."""
    now = now or timezone.now()
    sync_all(now=now)
    escalate_overdue(now=now)
    return claim(now=now)


# --- Sign-off -----------------------------------------------------------------------------


def sign_off(
    *, org: Organization, actor: User | None, review: RiskReview, note: str = ""
) -> RiskReview:
    """The review is done: its follow-up is completed and ``risk_review.completed`` recorded."""
    with transaction.atomic():
        locked = (
            RiskReview.objects.for_org(org)
            .select_for_update(of=("self",))
            .select_related("project", "milestone", "followup")
            .get(pk=review.pk)
        )
        before = locked.status
        if before == ReviewStatus.DONE:
            raise ReviewRefused(_("This review is signed off already."))
        locked.status = ReviewStatus.DONE
        locked.signed_off_at = timezone.now()
        locked.signed_off_by = actor
        locked.note = note.strip()
        locked.claim = None
        locked.claimed_at = None
        locked.save(
            update_fields=[
                "status",
                "signed_off_at",
                "signed_off_by",
                "note",
                "claim",
                "claimed_at",
            ]
        )
        followup = locked.followup
        if followup is not None and followup.status == FollowUpStatus.OPEN:
            followups.followup_complete(followup=followup, actor=actor)
        audit.record(
            org=org,
            action="risk_review.signed_off",
            actor=actor,
            obj=locked,
            changes={"status": [before, ReviewStatus.DONE]},
        )
        events.record(
            org=org,
            type="risk_review.completed",
            subject=locked.milestone,
            payload=review_payload(locked),
            actor=actor,
        )
    return locked


# --- Re-rating at the review -------------------------------------------------------------


def review_rate(
    *,
    org: Organization,
    actor: User | None,
    review: RiskReview,
    risk: Any,
    probability: int | None = None,
    impact: int | None = None,
) -> None:
    """At a review, confirm a risk's rating (``probability`` and ``impact`` None) or re-rate
    it; either way a line in its score history names the review."""
    from risks import services as risk_services
    from risks.models import RatingSource, Risk, RiskRating, RiskStatus

    if risk.organization_id != org.pk or risk.project_id != review.project_id:
        raise ReviewRefused(_("Choose an open risk of this project."))
    reason = _("Milestone risk review: %(milestone)s") % {"milestone": review.milestone.name}
    with transaction.atomic():
        locked = Risk.objects.for_org(org).select_for_update(of=("self",)).get(pk=risk.pk)
        if locked.status != RiskStatus.OPEN:
            raise ReviewRefused(_("Choose an open risk of this project."))
        if (
            probability is not None
            and impact is not None
            and ((probability, impact) != (locked.probability, locked.impact))
        ):
            risk_services.risk_rate(
                org=org,
                actor=actor,
                risk=locked,
                probability=probability,
                impact=impact,
                residual_probability=locked.residual_probability,
                residual_impact=locked.residual_impact,
                reason=reason,
            )
            return
        RiskRating.objects.create(
            organization=org,
            risk=locked,
            source=RatingSource.ASSESSED,
            probability=locked.probability,
            impact=locked.impact,
            score=locked.score,
            level=locked.level,
            residual_probability=locked.residual_probability,
            residual_impact=locked.residual_impact,
            residual_score=locked.residual_score,
            residual_level=locked.residual_level,
            actor=actor if actor is not None and actor.pk else None,
            reason=reason + " · " + _("confirmed"),
        )


# --- Gate criterion -----------------------------------------------------------------------

_SHOWN = 3


def milestone_reviews_signed_off(project: Project, phase: Phase) -> Verdict:
    """Every milestone of the phase has a signed-off risk review and none pending."""
    org = project.organization
    milestones = list(
        project_selectors.leaves_of_phase(org, phase).filter(duration_days=0).order_by("wbs_path")
    )
    signed = set(
        RiskReview.objects.for_org(org)
        .filter(milestone__in=milestones, status=ReviewStatus.DONE)
        .values_list("milestone_id", flat=True)
    )
    pending = set(
        RiskReview.objects.for_org(org)
        .filter(milestone__in=milestones, status__in=RiskReview.PENDING)
        .values_list("milestone_id", flat=True)
    )
    missing = [m for m in milestones if m.pk in pending or m.pk not in signed]
    if missing:
        names = ", ".join(f"{m.wbs_code} {m.name}" for m in missing[:_SHOWN])
        return Verdict(
            False,
            gettext_noop("Milestone risk reviews not signed off yet (%(n)d): %(names)s."),
            {"n": len(missing), "names": names + (" …" if len(missing) > _SHOWN else "")},
        )
    return Verdict(
        True,
        gettext_noop("The risk reviews of this phase's milestones are signed off (%(n)d)."),
        {"n": len(milestones)},
    )
