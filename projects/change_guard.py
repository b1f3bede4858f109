"""Change control's guard: baselined scope and budget of an active project change only
through an implemented change request.

``services`` (work items) and ``control`` (budget lines) ask ``refuse_baselined`` before a
direct edit; ``control.change_request_implement`` runs its edits inside
``change_control()``, which lets them through. Progress, actuals and items or lines that no
baseline holds change freely.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from accounts.models import Organization
from projects.models import Baseline, BaselineItem, BudgetLine, Project, ProjectStatus

# Fields of a work item that a baseline holds (its planned dates follow from these).
BASELINED_ITEM_FIELDS = frozenset(
    {"duration_days", "effort_hours", "budget", "start_no_earlier_than"}
)

_through_change_request: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "through_change_request", default=False
)


class BaselineLocked(ValidationError):
    """A direct edit of baselined scope or budget on an active project: a form error on the
    fields in the UI, a 409 pointing to change requests in the API."""

    def __init__(self, message: str, fields: Iterable[str] = ()) -> None:
        names = sorted(fields)
        super().__init__({name: [message] for name in names} if names else message)
        self.text = message
        self.fields = names


@contextmanager
def change_control() -> Iterator[None]:
    """Edits inside this block implement a change request: the guard lets them through."""
    token = _through_change_request.set(True)
    try:
        yield
    finally:
        _through_change_request.reset(token)


def current_baseline(org: Organization, project: Project | Any) -> Baseline | None:
    return Baseline.objects.for_org(org).filter(project=project).order_by("-number").first()


def is_guarded(project: Project) -> bool:
    return project.status == ProjectStatus.ACTIVE and not _through_change_request.get()


def refuse_baselined_item(
    org: Organization, project: Project, item_id: Any, fields: Iterable[str] = ()
) -> None:
    """Raise ``BaselineLocked`` if the item is in the current baseline of an active project
    and ``fields`` touch what the baseline holds (no ``fields``: the item itself goes)."""
    names = set(fields)
    if names and not names & BASELINED_ITEM_FIELDS:
        return
    if not is_guarded(project):
        return
    baseline = current_baseline(org, project)
    if baseline is None:
        return
    if (
        not BaselineItem.objects.for_org(org)
        .filter(baseline=baseline, work_item_key=item_id)
        .exists()
    ):
        return
    raise BaselineLocked(
        _(
            "This work item is in baseline %(n)d of an active project: change its duration, "
            "dates, effort or budget, or remove it, through a change request."
        )
        % {"n": baseline.number},
        names & BASELINED_ITEM_FIELDS,
    )


def refuse_baselined_link(org: Organization, project: Project, *item_ids: Any) -> None:
    """Raise ``BaselineLocked`` for adding, changing or removing a link between items that
    are both in the current baseline of an active project: the link decides their planned
    dates as much as their durations do. A link to an item no baseline holds is free."""
    if not is_guarded(project):
        return
    baseline = current_baseline(org, project)
    if baseline is None:
        return
    keys = {str(pk) for pk in item_ids if pk is not None}
    held = {
        str(pk)
        for pk in BaselineItem.objects.for_org(org)
        .filter(baseline=baseline, work_item_key__in=keys)
        .values_list("work_item_key", flat=True)
    }
    if len(keys) > 1 and keys <= held:
        raise BaselineLocked(
            _(
                "Both items of this link are in baseline %(n)d of an active project: add, "
                "change or remove the link through a change request."
            )
            % {"n": baseline.number}
        )


def refuse_baselined_line(org: Organization, project: Project, line_id: Any) -> None:
    if not is_guarded(project):
        return
    baseline = current_baseline(org, project)
    if baseline is not None and str(line_id) in set(baseline.budget_lines or []):
        raise BaselineLocked(
            _(
                "This budget line is in baseline %(n)d of an active project: change it "
                "through a change request."
            )
            % {"n": baseline.number},
            ["amount"],
        )


def refuse_budget_with_lines(org: Organization, item_id: Any, fields: Iterable[str]) -> None:
    """A work package with budget lines takes its budget from them: a direct budget is
    refused (change the lines instead)."""
    if (
        "budget" in set(fields)
        and BudgetLine.objects.for_org(org).filter(work_item_id=item_id).exists()
    ):
        raise ValidationError(
            {
                "budget": _(
                    "This work package's budget is the sum of its budget lines: change those."
                )
            }
        )
