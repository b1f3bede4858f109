"""CSV import of actual costs into one project, with the customer import's rules
(``engagements.imports``): the same file checks (UTF-8, 5 MB, a header naming the
columns), every row checked before anything is written, errors by line and column, and
all or nothing: one bad row and no row is written.

Unlike the customer import it runs in the request, without a job: a cost file is one
project's invoices and timesheets (at most ``MAX_ROWS`` rows), checked and written in well
under a second, so there is no progress to follow.

Columns: ``date`` (YYYY-MM-DD), ``category`` (a built-in or organization category key),
``amount`` (a decimal, negative for a credit), and optionally ``work_item`` (its WBS code,
e.g. 2.1, or its external id) and ``note``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts import audit
from accounts.models import Organization, User
from engagements.imports import MAX_ERRORS, FileError, _errors_of, decode
from projects import control, services
from projects.models import CostEntry, Project, WorkItem

COLUMNS = ["date", "category", "amount", "work_item", "note"]
REQUIRED = {"date", "category", "amount"}
MAX_ROWS = 5_000

__all__ = ["COLUMNS", "FileError", "ImportResult", "decode", "import_costs"]


@dataclass
class ImportResult:
    created: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


def _rows(content: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(content))
    header = [(name or "").strip().lower() for name in (reader.fieldnames or [])]
    if not header:
        raise FileError(_("The file is empty."))
    missing = REQUIRED - set(header)
    if missing:
        raise FileError(
            _("Missing columns: %(columns)s. Expected: %(expected)s.")
            % {"columns": ", ".join(sorted(missing)), "expected": ", ".join(COLUMNS)}
        )
    reader.fieldnames = header
    rows: list[dict[str, str]] = []
    for row in reader:
        if len(rows) >= MAX_ROWS:
            raise FileError(_("A file may have at most %(max)d rows.") % {"max": MAX_ROWS})
        rows.append({k: (v or "").strip() for k, v in row.items() if k})
    if not rows:
        raise FileError(_("The file has a header but no rows."))
    return rows


def import_costs(
    *, org: Organization, actor: User | None, project: Project, content: str
) -> ImportResult:
    """Check every row, then write them all in one transaction (or none)."""
    services._refuse_archived(project)
    rows = _rows(content)
    items: dict[str, WorkItem] = {}
    for leaf in WorkItem.objects.for_org(org).filter(project=project):
        items[leaf.wbs_code] = leaf
        if leaf.external_id:
            items[leaf.external_id] = leaf
    result = ImportResult()
    checked: list[dict[str, Any]] = []
    for line, row in enumerate(rows, start=2):  # line 1 is the header
        data: dict[str, Any] = {k: row.get(k, "") for k in ("date", "category", "amount", "note")}
        ref = row.get("work_item", "")
        if ref:
            if ref not in items:
                result.errors.append(
                    {
                        "row": line,
                        "field": "work_item",
                        "message": _("No work item %(ref)s in this project.") % {"ref": ref},
                    }
                )
                continue
            data["work_item"] = items[ref]
        try:
            checked.append(control._cost_values(org, project, data, None))
        except ValidationError as exc:
            result.errors.extend(_errors_of(line, exc))
        if len(result.errors) >= MAX_ERRORS:
            break
    if result.errors:
        return result
    with transaction.atomic():
        locked = control._lock(org, project)
        for values in checked:
            CostEntry.objects.create(
                organization=org,
                project=locked,
                entered_by=control._actor(actor),
                entered_by_label=control._label(actor),
                **values,
            )
        result.created = len(checked)
        audit.record(
            org=org,
            action="cost_entries.imported",
            actor=actor,
            obj=locked,
            changes={"cost_entries": [0, result.created]},
        )
        control._event(org, "cost_entry.created", locked, actor, {"imported": result.created})
    return result
