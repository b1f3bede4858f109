"""The gate criteria this app checks itself from evidence (``projects.gates`` registry)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from projects import change_guard, gates, selectors
from projects.gates import Verdict
from projects.models import BudgetLine, Phase, Project, WorkItem

_SHOWN = 3  # names listed in a reason; the rest are counted


def _names(items: list[WorkItem]) -> str:
    return ", ".join(f"{i.wbs_code} {i.name}" for i in items[:_SHOWN])


def work_items_done(project: Project, phase: Phase) -> Verdict:
    org = project.organization
    open_items = selectors.leaves_of_phase(org, phase).filter(percent_complete__lt=100)
    count = open_items.count()
    if count:
        first = list(open_items.order_by("wbs_path")[:_SHOWN])
        return Verdict(
            False,
            gettext_noop("Work items of this phase not done yet (%(n)d): %(names)s."),
            {"n": count, "names": _names(first) + (" …" if count > _SHOWN else "")},
        )
    total = selectors.leaves_of_phase(org, phase).count()
    return Verdict(
        True, gettext_noop("All work items of this phase are done (%(n)d)."), {"n": total}
    )


def milestones_reached(project: Project, phase: Phase) -> Verdict:
    org = project.organization
    milestones = selectors.leaves_of_phase(org, phase).filter(duration_days=0)
    missing = milestones.filter(percent_complete__lt=100)
    count = missing.count()
    if count:
        first = list(missing.order_by("wbs_path")[:_SHOWN])
        return Verdict(
            False,
            gettext_noop("Milestones of this phase not reached yet (%(n)d): %(names)s."),
            {"n": count, "names": _names(first) + (" …" if count > _SHOWN else "")},
        )
    return Verdict(
        True,
        gettext_noop("All milestones of this phase are reached (%(n)d)."),
        {"n": milestones.count()},
    )


def charter_complete(project: Project, phase: Phase) -> Verdict:
    if not project.objective.strip():
        return Verdict(False, gettext_noop("The project has no objective yet."))
    if not project.criteria_texts:
        return Verdict(False, gettext_noop("The project has no success criteria yet."))
    return Verdict(
        True,
        gettext_noop("The objective and the success criteria (%(n)d) are written."),
        {"n": len(project.criteria_texts)},
    )


def wbs_exists(project: Project, phase: Phase) -> Verdict:
    count = (
        WorkItem.objects.for_org(project.organization)
        .filter(project=project, is_summary=False)
        .count()
    )
    if not count:
        return Verdict(False, gettext_noop("The WBS has no work items yet."))
    return Verdict(
        True, gettext_noop("Work packages and milestones in the WBS: %(n)d."), {"n": count}
    )


def schedule_fits(project: Project, phase: Phase) -> Verdict:
    if project.target_finish_date is None:
        return Verdict(False, gettext_noop("No target finish date is set."))
    if project.slip_days is None:
        return Verdict(False, gettext_noop("Nothing is scheduled yet."))
    params = {
        "finish": project.schedule_finish.isoformat() if project.schedule_finish else "",
        "target": project.target_finish_date.isoformat(),
        "n": abs(project.slip_days),
    }
    if project.slip_days > 0:
        return Verdict(
            False,
            gettext_noop(
                "The schedule finishes on %(finish)s, after the target finish %(target)s "
                "(working days late: %(n)d)."
            ),
            params,
        )
    return Verdict(
        True,
        gettext_noop("The schedule finishes on %(finish)s, by the target finish %(target)s."),
        params,
    )


def success_marked(project: Project, phase: Phase) -> Verdict:
    criteria = project.success_criteria or []
    if not criteria:
        return Verdict(False, gettext_noop("The project has no success criteria to mark."))
    unmarked = [c for c in criteria if c.get("met") is None]
    if unmarked:
        return Verdict(
            False,
            gettext_noop("Success criteria not marked met or not met yet: %(n)d."),
            {"n": len(unmarked)},
        )
    met = sum(1 for c in criteria if c.get("met"))
    return Verdict(
        True,
        gettext_noop("All success criteria are marked: %(met)d of %(n)d met."),
        {"met": met, "n": len(criteria)},
    )


def baseline_exists(project: Project, phase: Phase) -> Verdict:
    baseline = change_guard.current_baseline(project.organization, project)
    if baseline is None:
        return Verdict(False, gettext_noop("No baseline is set yet."))
    return Verdict(
        True,
        gettext_noop("Baseline %(n)d “%(name)s” is set."),
        {"n": baseline.number, "name": baseline.name},
    )


def budget_set(project: Project, phase: Phase) -> Verdict:
    org = project.organization
    lines = BudgetLine.objects.for_org(org).filter(project=project, amount__gt=0).count()
    budgeted = (
        WorkItem.objects.for_org(org)
        .filter(project=project, is_summary=False, budget__gt=0)
        .count()
    )
    if not lines and not budgeted:
        return Verdict(
            False, gettext_noop("No budget is set: add budget lines or work-package budgets.")
        )
    return Verdict(
        True,
        gettext_noop("Budget set: %(lines)d budget lines, %(items)d work packages with a budget."),
        {"lines": lines, "items": budgeted},
    )


def register_builtin_kinds() -> None:
    gates.register_kind(
        "work_items_done", _("All work items of the phase are done"), work_items_done
    )
    gates.register_kind(
        "milestones_reached", _("Every milestone of the phase is reached"), milestones_reached
    )
    gates.register_kind(
        "charter_complete", _("Objective and success criteria are written"), charter_complete
    )
    gates.register_kind("wbs_exists", _("The WBS has work items"), wbs_exists)
    gates.register_kind(
        "schedule_fits", _("The schedule finishes by the target finish date"), schedule_fits
    )
    gates.register_kind(
        "success_marked",
        _("Every success criterion is marked met or not met"),
        success_marked,
    )
    gates.register_kind("baseline_exists", _("A baseline is set"), baseline_exists)
    gates.register_kind("budget_set", _("The budget is set"), budget_set)
