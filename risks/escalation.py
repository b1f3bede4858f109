"""Escalation between the two registers, and the contingency draw of an occurred risk.

Business → project: when a business risk occurs (a person marks it occurred, or the
cancellation rule raises it occurred), every live project of its customer gets one
escalated project risk (``escalated_from``, rated from the business risk, owned by the
project manager), the manager is notified and a change request "put the project on hold"
is drafted for the sponsor. ``Escalation`` is unique per (business risk, project), so the
signal may repeat any number of times, from any number of processes: each project gets
one of each. Everything, with ``risk.escalated``, is one transaction.

Project → business: a project slipping past its target finish, or whose SPI or CPI falls
below the organization's threshold, raises a business risk on its engagement through the
early-warning rules (``risks.monitoring``), deduplicated like the others.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts import audit
from accounts.models import Organization, User
from accounts.rls import org_context
from accounts.selectors import is_member
from followup.engine import notifications
from followup.kernel import events
from followup.kernel.models import Event
from projects import control
from projects import services as project_services
from projects.models import Project, ProjectStatus, ReserveEntry, ReserveKind
from risks import services
from risks.models import Escalation, Risk, RiskStatus, Side, Strategy

# Projects that take an escalation: not yet closed, cancelled or already on hold.
LIVE = (ProjectStatus.PROPOSED, ProjectStatus.ACTIVE)


class EscalationRefused(ValidationError):
    pass


def _lock(org: Organization, risk_id: Any) -> Risk:
    return Risk.objects.for_org(org).select_for_update(of=("self",)).get(pk=risk_id)


def projects_of(org: Organization, risk: Risk) -> list[Project]:
    """The live projects of the business risk's customer, in this organization."""
    if risk.customer_id is None:
        return []
    return list(
        Project.objects.for_org(org)
        .filter(engagement__customer_id=risk.customer_id, status__in=LIVE)
        .select_related("manager", "sponsor")
        .order_by("code", "id")
    )


def escalate(*, org: Organization, actor: User | None, risk: Risk) -> Risk:
    """Carry a business risk into each live project of its customer, once per project."""
    with transaction.atomic():
        source = _lock(org, risk.pk)
        if source.status == RiskStatus.CLOSED:
            raise EscalationRefused(_("A closed risk cannot be escalated."))
        if source.side != Side.BUSINESS:
            # A project risk escalates upwards (to the sponsor, by its strategy), into no
            # other register.
            return _escalate_upwards(org, actor, source)
        done = set(
            Escalation.objects.for_org(org)
            .filter(source=source)
            .values_list("project_id", flat=True)
        )
        created: list[Escalation] = []
        for project in projects_of(org, source):
            if project.pk in done:
                continue
            escalation = _escalate_into(org, actor, source, project)
            if escalation is not None:
                created.append(escalation)
        if created:
            events.record(
                org=org,
                type="risk.escalated",
                subject=source,
                actor=actor if actor is not None and actor.pk else None,
                payload={
                    "escalated_to": [str(e.project_risk_id) for e in created],
                    "projects": [str(e.project_id) for e in created],
                    "change_requests": [
                        str(e.change_request_id) for e in created if e.change_request_id
                    ],
                },
            )
    return source


def _escalate_upwards(org: Organization, actor: User | None, risk: Risk) -> Risk:
    previous = risk.strategy
    if previous != Strategy.ESCALATE:
        risk.strategy = Strategy.ESCALATE
        risk.save(update_fields=["strategy"])
        audit.record(
            org=org,
            action="risk.escalated",
            actor=actor,
            obj=risk,
            changes={"strategy": [previous, Strategy.ESCALATE]},
        )
        events.record(
            org=org,
            type="risk.escalated",
            subject=risk,
            actor=actor if actor is not None and actor.pk else None,
            payload={"escalated_to": [], "projects": [], "change_requests": []},
        )
    return risk


def _escalate_into(
    org: Organization, actor: User | None, source: Risk, project: Project
) -> Escalation | None:
    manager = project.manager if project.manager and is_member(org, project.manager) else None
    try:
        with transaction.atomic():
            if project_services.lock_project(org, project.pk) is None:
                return None
            project_risk = services.risk_create(
                org=org,
                actor=actor,
                data={
                    "subject_type": "project",
                    "subject_id": project.pk,
                    "title": (_("Escalated: %(title)s") % {"title": source.title})[:200],
                    "cause": source.cause,
                    "event": source.event,
                    "effect": source.effect,
                    "category": source.category,
                    "owner": manager,
                    "probability": source.probability,
                    "impact": source.impact,
                    "strategy": Strategy.ESCALATE,
                    "reason": _("Escalated from the business risk %(title)s.")
                    % {"title": source.title},
                },
            )
            Risk.objects.for_org(org).filter(pk=project_risk.pk).update_versioned(
                escalated_from=source
            )
            hold = control.change_request_draft(
                org=org,
                actor=actor,
                project=project,
                title=_("Put the project on hold"),
                reason=_("The customer's business risk occurred: %(title)s.")
                % {"title": source.title},
                changes=[{"kind": "project_status", "status": ProjectStatus.ON_HOLD}],
            )
            escalation = Escalation.objects.create(
                organization=org,
                source=source,
                project=project,
                project_risk=project_risk,
                change_request_id=hold.pk,
            )
    except IntegrityError:
        return None  # a concurrent run escalated into this project first
    params = {"risk": source.title, "project": project.code}
    url = services.risk_url(project_risk)
    if manager is not None:
        notifications.notify(
            org=org,
            recipients=[manager],
            kind="risk.escalated_to_project",
            params=params,
            url=url,
            subject=project_risk,
            dedupe_key=f"risk.escalated:{escalation.pk}",
        )
    if project.sponsor is not None:
        notifications.notify(
            org=org,
            recipients=[project.sponsor],
            kind="risk.hold_requested",
            params=params,
            url=url,
            subject=project_risk,
            dedupe_key=f"risk.hold_requested:{escalation.pk}",
        )
    return escalation


def on_risk_occurred(event: Event) -> None:
    """Outbox subscriber: a business risk occurred; escalate it (idempotent)."""
    org = event.organization
    if event.subject_id is None:
        return
    with org_context(org.pk):
        risk = Risk.objects.for_org(org).filter(pk=event.subject_id).first()
        if risk is None or risk.side != Side.BUSINESS or risk.status != RiskStatus.OCCURRED:
            return
        escalate(org=org, actor=None, risk=risk)


def escalations_of(org: Organization, risk: Risk) -> list[Escalation]:
    """Both directions of a risk's escalation links, for its page."""
    return list(
        Escalation.objects.for_org(org)
        .filter(source=risk)
        .select_related("project", "project_risk")
        .order_by("project__code")
    )


# --- Contingency ----------------------------------------------------------------------------


def contingency_balance(org: Organization, project: Project) -> Decimal:
    return control.reserve_balance(org, project, ReserveKind.CONTINGENCY)


def contingency_drawn(org: Organization, risk: Risk) -> Decimal:
    """What was drawn from the contingency reserve for this risk (a positive amount)."""
    total = Decimal(0)
    for amount in (
        ReserveEntry.objects.for_org(org)
        .filter(risk_id=risk.pk, reserve=ReserveKind.CONTINGENCY)
        .values_list("amount", flat=True)
    ):
        total -= amount
    return total


def contingency_draw(*, org: Organization, actor: User | None, risk: Risk) -> ReserveEntry:
    """Draw the occurred project risk's contingency amount from its project's reserve, once.

    The reserve never goes negative here: more than its balance needs a change request
    (``projects.control`` refuses it)."""
    with transaction.atomic():
        locked = _lock(org, risk.pk)
        if locked.side != Side.PROJECT or locked.project_id is None:
            raise EscalationRefused(_("Only a project risk draws on a project's reserve."))
        if locked.status != RiskStatus.OCCURRED:
            raise EscalationRefused(_("Draw the contingency reserve once the risk has occurred."))
        if not locked.contingency_amount:
            raise EscalationRefused(_("This risk has no contingency amount."))
        if contingency_drawn(org, locked):
            raise EscalationRefused(_("The contingency of this risk is drawn already."))
        project = Project.objects.for_org(org).get(pk=locked.project_id)
        try:
            return control.contingency_draw(
                org=org,
                actor=actor,
                project=project,
                amount=locked.contingency_amount,
                reason=_("Contingency for the risk: %(title)s") % {"title": locked.title},
                risk=locked,
            )
        except control.ChangeRefused as exc:
            raise EscalationRefused(exc.message) from None
