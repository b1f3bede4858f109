"""CSV import of actual costs into one project, as a job of the customer import's machinery
(``engagements.imports``, kind ``cost_entries`` registered here): the same file checks
(UTF-8, 5 MB, NUL characters, unclosed quotes, a header naming the columns), a claimed
Celery task that checks every row first with visible progress, errors by line and column
stored as message ids and parameters (shown in the reader's language), all or nothing (one
bad row and no row is written), a redelivered task that does nothing twice, and the
requeue tick for jobs whose task never reached a worker.

Change control: costs are actuals, so they change freely on a baselined, active project;
a closed project takes none (refused when the file is uploaded, and again when the job runs
and writes, under the project's lock). A row naming a work item of another project (or
organization) is refused, as is an amount with more than two decimals (a float written
out, ``1250.005``) and a category the organization does not have (the error lists those it
has).

Columns: ``date`` (YYYY-MM-DD), ``category`` (a built-in or organization category key),
``amount`` (a decimal with at most two places, negative for a credit), and optionally
``work_item`` (its WBS code, e.g. 2.1, its external id, or its id) and ``note``.
"""

from __future__ import annotations

import uuid
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date as _date
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import audit
from accounts.models import Organization, User
from engagements import imports
from engagements.imports import FileError, decode
from engagements.models import ImportJob
from engagements.services import import_start
from projects import control
from projects.models import CostEntry, Project, WorkItem

KIND = ImportJob.Kind.COST_ENTRIES
COLUMNS = ["date", "category", "amount", "work_item", "note"]
REQUIRED = {"date", "category", "amount"}

__all__ = ["COLUMNS", "FileError", "decode", "import_start_costs", "jobs", "register"]


class ProjectClosed(Exception):
    def __init__(self, project: Project) -> None:
        super().__init__(str(project.pk))
        self.message = _("This project is closed: it takes no more actual costs.")


@dataclass
class _Context:
    """What every row is checked against, read once per file (no query per row)."""

    project: Project
    items: dict[str, WorkItem]
    categories: list[tuple[str, str]]


def _context(org: Organization, project: Project) -> _Context:
    items: dict[str, WorkItem] = {}
    for work in (
        WorkItem.objects.for_org(org)
        .filter(project=project)
        .only("id", "wbs_code", "external_id", "project_id", "organization_id")
    ):
        items[str(work.pk)] = work
        if work.wbs_code:
            items[work.wbs_code] = work
        if work.external_id:
            items[work.external_id] = work
    return _Context(project, items, control.categories(org))


class CostRow(imports.RowForm):
    date = forms.CharField()
    category = imports.AllowedChoiceField(choices=())
    amount = forms.CharField()
    work_item = forms.CharField(max_length=255, required=False)
    note = forms.CharField(max_length=2000, required=False, widget=forms.Textarea)

    def __init__(
        self, data: dict[str, str], *, org: Organization, zone: zoneinfo.ZoneInfo, context: Any
    ) -> None:
        super().__init__(data, org=org, zone=zone)
        self.context: _Context = context
        field = self.fields["category"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = context.categories

    def clean_date(self) -> _date:
        raw = self.cleaned_data["date"]
        try:
            day = _date.fromisoformat(raw)
        except ValueError:
            raise ValidationError(
                gettext_lazy("%(value)s is not a date: write it as YYYY-MM-DD."),
                code="date",
                params={"value": raw},
            ) from None
        if not 1900 <= day.year <= 2999:
            raise ValidationError(
                gettext_lazy("Enter a date between 1900 and 2999."), code="date_range"
            )
        return day

    def clean_amount(self) -> Decimal:
        raw = self.cleaned_data["amount"]
        try:
            amount = Decimal(raw)
        except (InvalidOperation, ValueError):
            amount = None
        if amount is None or not amount.is_finite() or "e" in raw.lower():
            raise ValidationError(
                gettext_lazy("%(value)s is not an amount: write it like 1250.00."),
                code="amount",
                params={"value": raw},
            )
        if amount != amount.quantize(control.CENT):
            # A float written out (0.1 + 0.2 = 0.30000000000000004): never rounded silently.
            raise ValidationError(
                gettext_lazy("%(value)s has more than two decimal places: give it in cents."),
                code="amount_places",
                params={"value": raw},
            )
        if abs(amount) > control.MAX_AMOUNT:
            raise ValidationError(
                gettext_lazy("%(value)s is too large an amount."),
                code="amount_too_large",
                params={"value": raw},
            )
        return amount.quantize(control.CENT)

    def clean_work_item(self) -> WorkItem | None:
        ref = self.cleaned_data["work_item"]
        if not ref:
            return None
        found = self.context.items.get(ref)
        if found is not None:
            return found
        try:
            key = uuid.UUID(ref)
        except ValueError:
            key = None
        # An id of the organization's other project: say so. An id of another organization
        # reads as unknown, like any id that does not exist (nothing of it is revealed).
        if key is not None and WorkItem.objects.for_org(self.org).filter(pk=key).exists():
            raise ValidationError(
                gettext_lazy(
                    "Work item %(ref)s belongs to another project: import each project's "
                    "costs into that project."
                ),
                code="other_project",
                params={"ref": ref},
            )
        raise ValidationError(
            gettext_lazy("No work item %(ref)s in this project (give its WBS code or id)."),
            code="unknown_work_item",
            params={"ref": ref},
        )

    def to_data(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "date": d["date"],
            "category": d["category"],
            "amount": d["amount"],
            "work_item": d["work_item"],
            "note": d["note"].strip(),
        }


def _project_of(org: Organization, job: ImportJob) -> Project:
    project = (
        Project.objects.for_org(org).filter(pk=job.target_id).first() if job.target_id else None
    )
    if project is None:
        raise FileError(_("The project of this import no longer exists."))
    if project.is_archived:
        raise FileError(ProjectClosed(project).message)
    return project


def _check(
    org: Organization,
    job: ImportJob,
    rows: list[dict[str, str]],
    zone: zoneinfo.ZoneInfo,
    progress: Callable[[int], None],
) -> tuple[list[tuple[int, dict[str, Any]]], list[dict[str, Any]]]:
    context = _context(org, _project_of(org, job))
    return imports.check_rows(
        org,
        KIND,
        rows,
        zone=zone,
        progress=progress,
        make_form=lambda row: CostRow(row, org=org, zone=zone, context=context),
    )


def _write(
    org: Organization,
    job: ImportJob,
    checked: list[tuple[int, dict[str, Any]]],
    actor: User | None,
) -> tuple[int, int]:
    """Every row or none, under the project's lock: a project closed, or a work item
    removed, since the rows were checked refuses the file (the job's transaction rolls
    back)."""
    locked = control._lock(org, job.target_id)
    if locked.is_archived:
        raise ValidationError(ProjectClosed(locked).message)
    named = {data["work_item"].pk for _line, data in checked if data["work_item"] is not None}
    still = set(
        WorkItem.objects.for_org(org)
        .filter(project=locked, pk__in=named)
        .values_list("pk", flat=True)
    )
    for line, data in checked:
        work = data["work_item"]
        if work is not None and work.pk not in still:
            raise imports.row_failed(
                line,
                ValidationError(
                    {
                        "work_item": ValidationError(
                            gettext_lazy("Work item %(ref)s was removed meanwhile."),
                            code="removed_work_item",
                            params={"ref": work.wbs_code or str(work.pk)},
                        )
                    }
                ),
            )
    CostEntry.objects.bulk_create(
        [
            CostEntry(
                organization=org,
                project=locked,
                entered_by=control._actor(actor),
                entered_by_label=control._label(actor),
                **data,
            )
            for _line, data in checked
        ],
        batch_size=1000,
    )
    audit.record(
        org=org,
        action="cost_entries.imported",
        actor=actor,
        obj=locked,
        changes={"cost_entries": [0, len(checked)]},
    )
    control._event(
        org,
        "cost_entry.created",
        locked,
        actor,
        {"project": str(locked.pk), "imported": len(checked), "import": str(job.pk)},
    )
    return len(checked), 0


def allowed(org: Organization) -> dict[str, list[str]]:
    return {"category": [key for key, _label in control.categories(org)]}


def register() -> None:
    """From ``ProjectsConfig.ready``: the worker runs cost files like customer files."""
    imports.register_kind(
        KIND,
        imports.KindHandler(
            columns=COLUMNS, required=REQUIRED, check=_check, write=_write, allowed=allowed
        ),
    )


def import_start_costs(
    *,
    org: Organization,
    actor: User | None,
    project: Project,
    filename: str,
    content: str,
    queue: Callable[[str, str], bool],
) -> ImportJob:
    """Store the file as a job for the project and queue it after commit; a closed project
    is refused here (``ProjectClosed``), before any job exists."""
    fresh = Project.objects.for_org(org).get(pk=project.pk)
    if fresh.is_archived:
        raise ProjectClosed(fresh)
    return import_start(
        org=org,
        actor=actor,
        kind=KIND,
        filename=filename,
        content=content,
        queue=queue,
        target_id=fresh.pk,
    )


def jobs(org: Organization, project: Project) -> QuerySet[ImportJob]:
    """The project's cost imports (without the files' text), newest first."""
    return (
        ImportJob.objects.for_org(org)
        .filter(kind=KIND, target_id=project.pk)
        .select_related("created_by")
        .defer("content")
        .order_by("-created_at", "-id")
    )


def template_csv() -> str:
    return imports.template_csv(KIND)
