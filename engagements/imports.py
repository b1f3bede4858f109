"""CSV import of customers, contacts and touchpoints, all or nothing per file.

Two passes: every row is checked first (nothing written, progress visible to the page),
then, only if no row failed, all rows are written in one transaction through the same
services as the pages and the API. A row whose ``external_id`` is already known updates
that object instead of adding a duplicate.

An import survives what happens to its task:

- a run claims the job (a token and a time, ``claim``/``claimed_at``) and refreshes the
  time while it checks rows; a claim silent for longer than
  ``FOLLOWUP_IMPORT_CLAIM_TIMEOUT`` belongs to a dead run (a killed worker) and the next
  run takes the job over from the start. A redelivered task while the first run is alive
  changes nothing.
- the write pass and "done" commit together, and only while the claim is still ours, so a
  file is written once or not at all, whichever run gets there;
- when the broker cannot be reached, the job is kept (queued, with ``queue_failed_at``)
  and the page says it waits for the worker; ``requeue()``, a beat tick, queues it again
  once the broker is back, and queues the jobs of dead runs too.
"""

from __future__ import annotations

import csv
import io
import logging
import uuid
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import inputs, rls, zones
from accounts.inputs import InputRulesFormMixin
from accounts.models import Organization, User
from engagements import selectors, services
from engagements.models import Contact, Customer, Engagement, ImportJob, Touchpoint

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
MAX_ERRORS = 200
PROGRESS_EVERY = 25

COLUMNS = {
    ImportJob.Kind.CUSTOMERS: [
        "name",
        "external_id",
        "industry",
        "tier",
        "status",
        "owner_email",
        "annual_value",
        "currency",
        "notes",
    ],
    ImportJob.Kind.CONTACTS: [
        "customer_external_id",
        "customer_name",
        "name",
        "title",
        "email",
        "phone",
        "external_id",
        "is_primary",
    ],
    ImportJob.Kind.TOUCHPOINTS: [
        "customer_external_id",
        "customer_name",
        "engagement_external_id",
        "channel",
        "occurred_at",
        "summary",
        "outcome",
        "sentiment",
        "satisfaction",
        "effort_minutes",
        "next_step",
        "external_id",
        "logged_by_email",
    ],
}
REQUIRED = {
    ImportJob.Kind.CUSTOMERS: {"name"},
    ImportJob.Kind.CONTACTS: {"name"},
    ImportJob.Kind.TOUCHPOINTS: {"channel", "summary"},
}


@dataclass(frozen=True)
class KindHandler:
    """An import kind of another app (``projects`` registers cost entries): the same job,
    claim, progress, requeue and all-or-nothing rules, its own columns, rows and writes.

    - ``check(org, job, rows, zone, progress)`` returns ``(checked, errors)`` like
      ``check_rows`` (typically ``check_rows(..., make_form=...)`` with its own row form);
      it may raise ``FileError`` for the file as a whole (its target closed meanwhile).
    - ``write(org, job, checked, actor)`` writes every checked row or raises
      ``ValidationError`` (the job's transaction rolls back); returns (created, updated).
    - ``allowed(org)`` lists the values of its choice columns (for the page and the API).
    """

    columns: list[str]
    required: set[str]
    check: Callable[..., tuple[list[tuple[int, dict[str, Any]]], list[dict[str, Any]]]]
    write: Callable[..., tuple[int, int]]
    allowed: Callable[[Organization], dict[str, list[str]]] = dataclass_field(
        default=lambda org: {}, compare=False
    )


_KINDS: dict[str, KindHandler] = {}


def register_kind(kind: str, handler: KindHandler) -> None:
    """Called from an app's ``ready()``: the worker and the web both know the kind."""
    _KINDS[kind] = handler


def registered(kind: str) -> KindHandler | None:
    return _KINDS.get(kind)


def columns_of(kind: str) -> list[str]:
    handler = _KINDS.get(kind)
    return handler.columns if handler else COLUMNS[ImportJob.Kind(kind)]


class FileError(Exception):
    """The file as a whole cannot be read (encoding, size, header)."""


class RowError(FileError):
    """The file cannot be read past one row (a quote opened and never closed): reported
    as that row's error, and nothing of the file is imported."""

    def __init__(self, message: str, *, row: int) -> None:
        super().__init__(message)
        self.row = row


# The fields whose values may span lines (a quoted value with line breaks); a line break in
# any other field means a quote opened on one line was closed on a later one, swallowing
# the rows between.
MULTI_LINE = {"notes", "summary", "outcome", "next_step"}


def _quote_error(line: int) -> RowError:
    return RowError(
        _(
            "A quoted value is not closed, or a quote stands inside a value: check the "
            "quotes of this row. Nothing was imported."
        ),
        row=line,
    )


def read_rows(content: str, kind: str) -> list[dict[str, str]]:
    # strict: a quote opened and never closed is an error, not one garbage row that
    # swallows the rest of the file.
    reader = csv.DictReader(io.StringIO(content), strict=True)
    header = [(name or "").strip().lower() for name in (reader.fieldnames or [])]
    if not header:
        raise FileError(_("The file is empty."))
    handler = _KINDS.get(kind)
    missing = set(handler.required if handler else REQUIRED[kind]) - set(header)
    if (
        handler is None
        and kind != ImportJob.Kind.CUSTOMERS
        and not {"customer_external_id", "customer_name"} & set(header)
    ):
        missing.add("customer_external_id")
    if missing:
        raise FileError(
            _("Missing columns: %(columns)s. Expected: %(expected)s.")
            % {"columns": ", ".join(sorted(missing)), "expected": ", ".join(columns_of(kind))}
        )
    reader.fieldnames = header
    rows: list[dict[str, str]] = []
    # The line a record starts on (the header is line 1, as in check_rows): a quote
    # error names the line where the quote was opened, wherever the reader noticed it.
    start = reader.line_num + 1
    try:
        for row in reader:
            if len(rows) >= MAX_ROWS:
                raise FileError(_("A file may have at most %(max)d rows.") % {"max": MAX_ROWS})
            if reader.line_num > start and any(
                k not in MULTI_LINE and ("\n" in (v or "") or "\r" in (v or ""))
                for k, v in row.items()
                if k
            ):
                raise _quote_error(start)
            rows.append({k: (v or "").strip() for k, v in row.items() if k})
            start = reader.line_num + 1
    except csv.Error:
        raise _quote_error(start) from None
    return rows


def decode(raw: bytes) -> str:
    if len(raw) > MAX_BYTES:
        raise FileError(_("The file is larger than 5 MB; split it."))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileError(_("Save the file as UTF-8 CSV and try again.")) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise FileError(
            _("Line %(line)d contains a NUL character; a CSV file cannot. Save it again as CSV.")
            % {"line": line}
        )
    return text


# --- One form per kind: parse and check a row without writing -------------------------


class RowForm(InputRulesFormMixin, forms.Form):
    """A row of a file, checked without writing (public: registered kinds subclass it)."""

    def __init__(self, data: dict[str, str], *, org: Organization, zone: zoneinfo.ZoneInfo) -> None:
        super().__init__(data)
        self.org = org
        self.zone = zone

    def _person(self, email: str) -> User | None:
        if not email:
            return None
        person = selectors.org_people(self.org).filter(email__iexact=email).first()
        if person is None:
            raise ValidationError(
                gettext_lazy("%(email)s is not a member of the organization."),
                code="not_member",
                params={"email": email},
            )
        return person

    def _customer(self) -> Customer:
        external_id = self.data.get("customer_external_id", "")
        name = self.data.get("customer_name", "")
        customers = Customer.objects.for_org(self.org)
        if external_id:
            customer = customers.filter(external_id=external_id).first()
        elif name:
            matches = list(customers.filter(name__iexact=name)[:2])
            if len(matches) > 1:
                raise ValidationError(
                    gettext_lazy(
                        "Several customers are called %(name)s; use customer_external_id."
                    ),
                    code="ambiguous_customer",
                    params={"name": name},
                )
            customer = matches[0] if matches else None
        else:
            raise ValidationError(
                gettext_lazy("Name the customer (customer_external_id or customer_name)."),
                code="no_customer",
            )
        if customer is None:
            raise ValidationError(
                gettext_lazy("No such customer: %(ref)s."),
                code="unknown_customer",
                params={"ref": external_id or name},
            )
        return customer


class AllowedChoiceField(forms.ChoiceField):
    """A choice column whose error lists the values it allows (the file's author cannot see a
    drop-down)."""

    def validate(self, value: Any) -> None:
        try:
            super().validate(value)
        except ValidationError as exc:
            if exc.code != "invalid_choice":
                raise
            raise ValidationError(
                gettext_lazy("%(value)s is not allowed here; use one of: %(allowed)s."),
                code="invalid_choice",
                params={"value": value, "allowed": ", ".join(self.allowed())},
            ) from None

    def allowed(self) -> list[str]:
        choices: Any = self.choices
        return [str(key) for key, _label in choices if key]


class CustomerRow(RowForm):
    name = forms.CharField(max_length=200)
    external_id = forms.CharField(max_length=255, required=False)
    industry = forms.CharField(max_length=100, required=False)
    tier = AllowedChoiceField(choices=Customer.Tier.choices, required=False)
    status = AllowedChoiceField(choices=Customer.Status.choices, required=False)
    owner_email = forms.EmailField(required=False)
    annual_value = forms.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)
    currency = forms.RegexField(
        r"^[A-Za-z]{3}$",
        required=False,
        error_messages={
            "invalid": gettext_lazy("Use a three-letter ISO 4217 currency code, e.g. EUR.")
        },
    )
    notes = forms.CharField(required=False, widget=forms.Textarea)  # multi-line text

    def clean_owner_email(self) -> User | None:
        return self._person(self.cleaned_data["owner_email"])

    def to_data(self) -> dict[str, Any]:
        d = self.cleaned_data
        data = {
            "name": d["name"],
            "external_id": d["external_id"] or None,
            "industry": d["industry"],
            "tier": d["tier"] or Customer.Tier.STANDARD,
            "status": d["status"] or Customer.Status.ACTIVE,
            "owner": d["owner_email"],
            "annual_value": d["annual_value"],
            "currency": (d["currency"] or "EUR").upper(),
            "notes": d["notes"],
        }
        return data


class _CustomerRefRow(RowForm):
    """A row that names its customer by external id or by name."""

    customer_external_id = forms.CharField(max_length=255, required=False)
    customer_name = forms.CharField(max_length=200, required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        try:
            cleaned["customer"] = self._customer()
        except ValidationError as exc:
            self.add_error("customer_external_id", exc)
        return cleaned


class ContactRow(_CustomerRefRow):
    name = forms.CharField(max_length=200)
    title = forms.CharField(max_length=200, required=False)
    email = forms.EmailField(required=False)
    phone = forms.CharField(max_length=50, required=False)
    external_id = forms.CharField(max_length=255, required=False)
    is_primary = forms.CharField(required=False)

    def clean_is_primary(self) -> bool:
        value = self.cleaned_data["is_primary"].lower()
        if value in ("", "0", "no", "false", "n"):
            return False
        if value in ("1", "yes", "true", "y", "x"):
            return True
        raise ValidationError(gettext_lazy("Use yes or no."), code="yes_no")

    def to_data(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "customer": d["customer"],
            "name": d["name"],
            "title": d["title"],
            "email": d["email"],
            "phone": d["phone"],
            "external_id": d["external_id"] or None,
            "is_primary": d["is_primary"],
        }


class TouchpointRow(_CustomerRefRow):
    external_id = forms.CharField(max_length=255, required=False)
    engagement_external_id = forms.CharField(max_length=255, required=False)
    channel = AllowedChoiceField(choices=Touchpoint.Channel.choices)
    occurred_at = forms.CharField(required=False)
    summary = forms.CharField(widget=forms.Textarea)  # multi-line text (input rules)
    outcome = forms.CharField(required=False, widget=forms.Textarea)
    sentiment = forms.IntegerField(min_value=-2, max_value=2, required=False)
    satisfaction = forms.IntegerField(min_value=1, max_value=5, required=False)
    effort_minutes = forms.IntegerField(min_value=0, max_value=24 * 60, required=False)
    next_step = forms.CharField(required=False, widget=forms.Textarea)
    logged_by_email = forms.EmailField(required=False)

    def clean_occurred_at(self) -> datetime | None:
        raw = self.cleaned_data["occurred_at"]
        if not raw:
            return None
        parsed = parse_datetime(raw.replace(" ", "T", 1) if "T" not in raw else raw)
        if parsed is None:
            day = parse_date(raw)
            if day is None:
                raise ValidationError(
                    gettext_lazy(
                        "Use a date and time such as 2026-03-01 14:30 or 2026-03-01T14:30:00+08:00."
                    ),
                    code="datetime",
                )
            parsed = datetime(day.year, day.month, day.day, 12, 0)
        if timezone.is_naive(parsed):
            # A time without offset is read in the time zone of the person who imports.
            parsed = parsed.replace(tzinfo=self.zone)
        inputs.DATE_RANGE(parsed)  # the row form's own text field: the rule by hand
        return parsed

    def clean_logged_by_email(self) -> User | None:
        return self._person(self.cleaned_data["logged_by_email"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        ref = self.data.get("engagement_external_id", "")
        cleaned["engagement"] = None
        if ref:
            engagement = Engagement.objects.for_org(self.org).filter(external_id=ref).first()
            if engagement is None:
                self.add_error(
                    "engagement_external_id",
                    ValidationError(
                        gettext_lazy("No such engagement: %(ref)s."),
                        code="unknown_engagement",
                        params={"ref": ref},
                    ),
                )
            else:
                cleaned["engagement"] = engagement
        return cleaned

    def to_data(self) -> dict[str, Any]:
        d = self.cleaned_data
        data = {
            "customer": d["customer"],
            "channel": d["channel"],
            "occurred_at": d["occurred_at"],
            "summary": d["summary"],
            "outcome": d["outcome"],
            "sentiment": d["sentiment"],
            "satisfaction": d["satisfaction"],
            "effort_minutes": d["effort_minutes"] or 0,
            "next_step": d["next_step"],
            "external_id": d["external_id"] or None,
            "logged_by": d["logged_by_email"],
        }
        if d.get("engagement") is not None:
            data["engagement"] = d["engagement"]
        return data


ROW_FORMS: dict[str, type[RowForm]] = {
    ImportJob.Kind.CUSTOMERS: CustomerRow,
    ImportJob.Kind.CONTACTS: ContactRow,
    ImportJob.Kind.TOUCHPOINTS: TouchpointRow,
}


def error_entry(line: int, field: str, error: ValidationError | str) -> dict[str, Any]:
    """One stored error: its English text, and its message id and parameters, so that the
    page shows it in the reader's language (``ImportJob.shown_errors``), not the language of
    whoever ran the import."""
    if isinstance(error, ValidationError) and not hasattr(error, "message"):
        error = error.error_list[0]
    if not isinstance(error, ValidationError):
        return {"row": line, "field": field, "message": str(error), "code": "", "msgid": ""}
    with translation.override(None):  # lazy messages give their msgid
        msgid = str(error.message)
    params = {
        key: value if isinstance(value, int | float | str) else str(value)
        for key, value in (error.params or {}).items()
    }
    try:
        message = msgid % params if params else msgid
    except (KeyError, TypeError, ValueError):
        message, params = msgid, {}
    return {
        "row": line,
        "field": field,
        "message": message,
        "code": error.code or "",
        "msgid": msgid,
        "params": params,
    }


def _errors_of(line: int, error: ValidationError | dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    if isinstance(error, ValidationError):
        details: dict[str, Any] = (
            error.error_dict if hasattr(error, "error_dict") else {"": error.error_list}
        )
    else:
        details = error
    for field, messages in details.items():
        if isinstance(messages, dict):  # nested by index from touchpoints_log_many
            for sub_field, sub_messages in messages.items():
                out += [error_entry(line, sub_field, m) for m in _flat(sub_messages)]
            continue
        field_name = "" if field in ("__all__", "non_field_errors") else field
        out += [error_entry(line, field_name, m) for m in _flat(messages)]
    return out


def _flat(messages: Any) -> list[Any]:
    if isinstance(messages, ValidationError):
        return list(messages.error_list)
    out: list[Any] = []
    for m in messages if isinstance(messages, list | tuple) else [messages]:
        out += list(m.error_list) if isinstance(m, ValidationError) else [m]
    return out


# --- The job ---------------------------------------------------------------------------

logger = logging.getLogger(__name__)

#: Queues a job's task: ``(org_id, job_id) -> bool``, False when the broker is unreachable.
Queue = Callable[[str, str], bool]


class _ClaimLost(Exception):
    """Another run took the job over (ours was presumed dead): roll our writes back."""


def _claim(jobs: Any, job_id: Any, token: uuid.UUID) -> bool:
    """Take the job for this run: unfinished, and not held by a run heard from lately."""
    now = timezone.now()
    free = Q(claimed_at__isnull=True) | Q(
        claimed_at__lt=now - settings.FOLLOWUP_IMPORT_CLAIM_TIMEOUT
    )
    return bool(
        jobs.filter(free, pk=job_id, status__in=ImportJob.UNFINISHED).update_versioned(
            status=ImportJob.Status.CHECKING,
            claim=token,
            claimed_at=now,
            processed_rows=0,
            queue_failed_at=None,
        )
    )


def run(*, org: Organization, job_id: Any) -> str:
    """Run the import: ``done``, ``failed``, or ``skipped`` when another run holds it (or
    it is finished). Safe to run again after a crash at any point."""
    jobs = ImportJob.objects.for_org(org)
    token = uuid.uuid4()
    if not _claim(jobs, job_id, token):
        return "skipped"
    ours = jobs.filter(pk=job_id, claim=token)
    job = jobs.select_related("created_by").get(pk=job_id)
    zone = zones.zone(job.timezone)

    def progress(n: int) -> None:
        # Also the run's heartbeat: a claim refreshed here is not taken over.
        ours.update(processed_rows=n, claimed_at=timezone.now())

    try:
        rows = read_rows(job.content, job.kind)
    except (FileError, csv.Error) as exc:
        row = exc.row if isinstance(exc, RowError) else None
        return _fail(ours, [{"row": row, "field": "", "message": str(exc)}])
    ours.update(total_rows=len(rows), claimed_at=timezone.now())

    handler = _KINDS.get(job.kind)
    try:
        if handler is not None:
            checked, errors = handler.check(org, job, rows, zone, progress)
        else:
            checked, errors = check_rows(org, job.kind, rows, zone=zone, progress=progress)
    except FileError as exc:
        return _fail(ours, [{"row": None, "field": "", "message": str(exc)}])
    if errors:
        return _fail(ours, errors)
    # A fresh claim for the write pass: it is one transaction, silent until it commits.
    if not ours.update_versioned(
        status=ImportJob.Status.WRITING, processed_rows=len(rows), claimed_at=timezone.now()
    ):
        return "skipped"
    try:
        with transaction.atomic():
            if handler is not None:
                created, updated = handler.write(org, job, checked, job.created_by)
            else:
                created, updated = write_rows(org, job.kind, checked, actor=job.created_by)
            finished = ours.update_versioned(
                status=ImportJob.Status.DONE,
                created_count=created,
                updated_count=updated,
                finished_at=timezone.now(),
                content="",  # the file served its purpose; the counts and errors stay
                claim=None,
                claimed_at=None,
            )
            if not finished:
                raise _ClaimLost
    except _ClaimLost:
        logger.warning(
            "Import %s was taken over by another run; this run's writes rolled back", job_id
        )
        return "skipped"
    except ValidationError as exc:
        return _fail(ours, _write_errors(exc))
    return "done"


def _fail(ours: Any, errors: list[dict[str, Any]]) -> str:
    if not ours.update_versioned(
        status=ImportJob.Status.FAILED,
        errors=errors[:MAX_ERRORS],
        finished_at=timezone.now(),
        content="",
        claim=None,
        claimed_at=None,
    ):
        return "skipped"  # taken over meanwhile: the other run reports
    return "failed"


def queue_job(*, org: Organization, job_id: Any, queue: Queue) -> bool:
    """Hand the job's task to the broker; if it cannot be reached, mark the job as waiting
    for the worker (the page says so) instead of failing the request."""
    jobs = ImportJob.objects.for_org(org).filter(pk=job_id)
    if queue(str(org.pk), str(job_id)):
        jobs.update(queued_at=timezone.now(), queue_failed_at=None)
        return True
    jobs.update(queue_failed_at=timezone.now())
    return False


def requeue(*, queue: Queue, batch: int = 200) -> int:
    """The minute tick: queue again the jobs whose task never reached a worker (the broker
    was down, or the message was lost) and those of runs presumed dead. Returns how many
    were queued. A job queued twice is harmless: the second run finds it claimed or done.

    Cross-tenant by nature (a beat tick): one sweep serves every organization.
    """
    now = timezone.now()
    timeout = settings.FOLLOWUP_IMPORT_CLAIM_TIMEOUT
    never_reached = Q(status=ImportJob.Status.QUEUED) & (
        Q(queue_failed_at__isnull=False)
        | Q(queued_at__isnull=True, created_at__lt=now - timeout)
        | Q(queued_at__lt=now - timeout)
    )
    dead_run = Q(status__in=ImportJob.UNFINISHED, claimed_at__lt=now - timeout)
    with rls.cross_tenant("import sweep"):
        stalled = list(
            ImportJob.objects.dangerously_unscoped()
            .filter(never_reached | dead_run)
            .select_related("organization")
            .order_by("created_at")
            .only("pk", "organization")[:batch]
        )
    queued = 0
    for job in stalled:
        with rls.org_context(job.organization_id):
            if not queue_job(org=job.organization, job_id=job.pk, queue=queue):
                break  # the broker is still down: the next tick tries again
        queued += 1
    return queued


def check_rows(
    org: Organization,
    kind: str,
    rows: list[dict[str, str]],
    *,
    zone: zoneinfo.ZoneInfo,
    progress: Callable[[int], None] = lambda n: None,
    make_form: Callable[[dict[str, str]], Any] | None = None,
) -> tuple[list[tuple[int, dict[str, Any]]], list[dict[str, Any]]]:
    """Each row's cleaned data with its line number (the header is line 1), and errors.

    ``make_form(row)`` builds a registered kind's row form (a ``RowForm`` with
    ``to_data()``); the built-in kinds use ``ROW_FORMS``."""
    if make_form is None:
        form_class = ROW_FORMS[kind]

        def make_form(row: dict[str, str]) -> Any:
            return form_class(row, org=org, zone=zone)

    checked, errors = [], []
    for index, row in enumerate(rows):
        line = index + 2
        form = make_form(row)
        if form.is_valid():
            checked.append((line, form.to_data()))
        else:
            errors += [
                error_entry(line, "" if f == "__all__" else f, e)
                for f, errs in form.errors.as_data().items()
                for e in errs
            ]
        if (index + 1) % PROGRESS_EVERY == 0:
            progress(index + 1)
    progress(len(rows))
    return checked, errors


class _RowFailed(ValidationError):
    def __init__(self, line: int, error: ValidationError) -> None:
        super().__init__(str(error))
        self.line = line
        self.error = error


def row_failed(line: int, error: ValidationError) -> ValidationError:
    """For a registered kind's ``write``: row ``line`` cannot be written after all (its
    errors are reported by line and column, and nothing of the file is)."""
    return _RowFailed(line, error)


def _write_errors(exc: ValidationError) -> list[dict[str, Any]]:
    if isinstance(exc, _RowFailed):
        return _errors_of(exc.line, exc.error)
    return _errors_of(0, exc)


@transaction.atomic
def write_rows(
    org: Organization, kind: str, checked: list[tuple[int, dict[str, Any]]], *, actor: User | None
) -> tuple[int, int]:
    """Write every checked row or none (the transaction rolls back on the first error).

    Rows already known by external id are locked first, and rows are written in
    ``services.write_order``, like the bulk API, so an import beside a CRM sync of the same
    records waits instead of deadlocking.
    """
    model: type[Any] = {
        ImportJob.Kind.TOUCHPOINTS: Touchpoint,
        ImportJob.Kind.CUSTOMERS: Customer,
        ImportJob.Kind.CONTACTS: Contact,
    }[ImportJob.Kind(kind)]
    save = services.customer_save if model is Customer else services.contact_save
    target = "customer" if model is Customer else "contact"

    def write(existing: Any, data: dict[str, Any]) -> Any:
        return save(org=org, actor=actor, data=data, **{target: existing})

    try:
        results = services.upsert_many(
            org=org,
            actor=actor,
            model=model,
            rows=[data for _line, data in checked],
            # Customers and touchpoints are written set-based by the pipeline itself.
            write=write if model is Contact else None,
            source=Touchpoint.Source.IMPORT,
        )
    except services.BulkItemError as exc:
        raise _RowFailed(checked[exc.index][0], exc.error) from None
    created = sum(1 for _obj, was_created in results if was_created)
    return created, len(results) - created


def export_customers(rows: Any) -> str:
    """The customer list as CSV, in the import's columns (plus health), so it round-trips."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [*COLUMNS[ImportJob.Kind.CUSTOMERS], "health_score", "health_level", "last_touch_at"]
    )
    for c in rows:
        writer.writerow(
            [
                _safe(c.name),
                _safe(c.external_id or ""),
                _safe(c.industry),
                c.tier,
                c.status,
                c.owner.email if c.owner else "",
                c.annual_value if c.annual_value is not None else "",
                c.currency,
                _safe(c.notes),
                c.health_score if c.health_score is not None else "",
                c.health_level,
                c.last_touch_at.isoformat() if c.last_touch_at else "",
            ]
        )
    return out.getvalue()


def _safe(value: str) -> str:
    # A cell starting with = + - @ runs as a formula in spreadsheets (CSV injection).
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def allowed_values(kind: str) -> dict[str, list[str]]:
    """The choice columns of a kind and the values each accepts (shown on the import page
    and in a refused row's error)."""
    handler = _KINDS.get(kind)
    if handler is not None:
        raise ValueError(f"{kind}: use the handler's allowed(org)")
    form = ROW_FORMS[ImportJob.Kind(kind)]
    return {
        name: field.allowed()
        for name, field in form.base_fields.items()
        if isinstance(field, AllowedChoiceField)
    }


def template_csv(kind: str) -> str:
    """A CSV with the kind's columns, to fill in and upload (the header row only)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(columns_of(kind))
    return buffer.getvalue()
