"""Project follow-up: projects, their phases and gates, the WBS, dependencies and the schedule.

The schedule (early/late dates, floats, the critical flag) and the WBS roll-up (a summary's
effort, budget and progress) are stored on the rows by ``services`` in the transaction of
the change that moved them, so that pages and the API read them with plain queries.
``wbs_code`` and ``wbs_path`` (a sort key) are recomputed the same way whenever the tree
changes; ``parent`` and ``position`` are the truth they are derived from.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.tenancy import TenantModel

currency_validator = RegexValidator(
    r"^[A-Z]{3}$", _("Use a three-letter ISO 4217 currency code, e.g. EUR.")
)
ZERO = Decimal(0)


class ProjectStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    ACTIVE = "active", _("Active")
    ON_HOLD = "on_hold", _("On hold")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


class Decision(models.TextChoices):
    """Gate decisions (Stage-Gate), plus ``resume``: lifting a hold without a gate."""

    GO = "go", pgettext_lazy("gate decision", "Go")
    HOLD = "hold", pgettext_lazy("gate decision", "Hold")
    RECYCLE = "recycle", pgettext_lazy("gate decision", "Recycle")
    KILL = "kill", pgettext_lazy("gate decision", "Kill")
    RESUME = "resume", pgettext_lazy("gate decision", "Resume")


class AttestRole(models.TextChoices):
    """Who may attest a criterion: the project's sponsor or manager, or an organization
    admin (anyone with the ``org.manage`` capability)."""

    SPONSOR = "sponsor", _("Sponsor")
    MANAGER = "manager", _("Project manager")
    ADMIN = "admin", _("Organization admin")


# --- Phase templates -------------------------------------------------------------------


class PhaseTemplate(TenantModel):
    """An organization's sequence of phases, each with its gate criteria. A project copies
    its template's phases when it is created; later edits of the template change new
    projects only."""

    name = models.CharField(_("name"), max_length=120)
    is_default = models.BooleanField(_("default for new projects"), default=False)

    class Meta:
        verbose_name = _("phase template")
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(is_default=True),
                name="phase_template_one_default",
            )
        ]

    def __str__(self) -> str:
        return self.name


class TemplatePhase(TenantModel):
    template = models.ForeignKey(PhaseTemplate, on_delete=models.CASCADE, related_name="phases")
    key = models.SlugField(_("key"), max_length=40)
    name = models.CharField(_("name"), max_length=120)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "created_at"]

    def __str__(self) -> str:
        return self.name


class TemplateCriterion(TenantModel):
    phase = models.ForeignKey(TemplatePhase, on_delete=models.CASCADE, related_name="criteria")
    kind = models.CharField(_("kind"), max_length=64)
    label = models.CharField(_("criterion"), max_length=200, blank=True)
    role = models.CharField(_("attested by"), max_length=16, choices=AttestRole.choices, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "created_at"]

    def __str__(self) -> str:
        return self.label or self.kind


# --- Projects --------------------------------------------------------------------------


class Project(TenantModel):
    Status = ProjectStatus

    code = models.CharField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=200)
    objective = models.TextField(_("objective"), blank=True)
    # [{"text": str, "met": true | false | null, "note": str}]: the API shows the texts.
    success_criteria = models.JSONField(_("success criteria"), default=list, blank=True)
    engagement = models.ForeignKey(
        "engagements.Engagement",
        verbose_name=_("engagement"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="projects",
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("project manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    sponsor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sponsor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=16, choices=ProjectStatus.choices, default=ProjectStatus.PROPOSED
    )
    phase = models.ForeignKey(
        "projects.Phase",
        verbose_name=_("phase"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    start_date = models.DateField(_("start date"))
    target_finish_date = models.DateField(_("target finish date"), null=True, blank=True)
    # {"working_days": [1..7], "holidays": ["YYYY-MM-DD", ...]}, copied from the
    # organization's default when the project is created.
    calendar = models.JSONField(_("working calendar"), default=dict, blank=True)
    currency = models.CharField(
        _("currency"), max_length=3, default="EUR", validators=[currency_validator]
    )
    external_id = models.CharField(_("external id"), max_length=255, null=True, blank=True)

    # The stored schedule (services recompute it in the transaction of every change).
    schedule_start = models.DateField(null=True, blank=True, editable=False)
    schedule_finish = models.DateField(null=True, blank=True, editable=False)
    schedule_duration_days = models.PositiveIntegerField(default=0, editable=False)
    critical_path = models.JSONField(default=list, blank=True, editable=False)
    # Working days the schedule finishes after the target (negative: before); null
    # without a target.
    slip_days = models.IntegerField(null=True, blank=True, editable=False)
    schedule_computed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("project")
        constraints = [
            models.UniqueConstraint(fields=["organization", "code"], name="project_code_unique"),
            models.UniqueConstraint(
                fields=["organization", "external_id"],
                condition=Q(external_id__isnull=False),
                name="project_external_id_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status"], name="project_org_status_idx"),
            models.Index(fields=["organization", "manager"], name="project_org_manager_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_archived(self) -> bool:
        """Closed and cancelled projects are the archive: read-only, out of the list."""
        return self.status in (ProjectStatus.CLOSED, ProjectStatus.CANCELLED)

    @property
    def criteria_texts(self) -> list[str]:
        return [str(c.get("text", "")) for c in self.success_criteria or []]


class Phase(TenantModel):
    """A phase of one project, copied from its template when the project was created."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="phases")
    key = models.SlugField(_("key"), max_length=40)
    name = models.CharField(_("name"), max_length=120)
    position = models.PositiveIntegerField(default=0)
    entered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("phase")
        ordering = ["position", "created_at"]

    def __str__(self) -> str:
        return self.name


class GateCriterion(TenantModel):
    """What must be true to leave a phase: checked by the system from evidence (``kind``
    in ``projects.gates``) or attested by a person in ``role`` with a note or a link."""

    phase = models.ForeignKey(Phase, on_delete=models.CASCADE, related_name="criteria")
    kind = models.CharField(_("kind"), max_length=64)
    label = models.CharField(_("criterion"), max_length=200, blank=True)
    role = models.CharField(_("attested by"), max_length=16, choices=AttestRole.choices, blank=True)
    position = models.PositiveIntegerField(default=0)
    attested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    attested_at = models.DateTimeField(null=True, blank=True)
    evidence_note = models.TextField(_("evidence"), blank=True)
    evidence_url = models.URLField(_("evidence link"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("gate criterion")
        ordering = ["position", "created_at"]

    def __str__(self) -> str:
        return self.label or self.kind


class PhaseTransition(TenantModel):
    """One gate decision (or the lifting of a hold): immutable once written.

    ``criteria`` is the state of the phase's gate criteria at that moment:
    ``[{"id", "kind", "label", "met", "reason", "params"}]`` (``reason`` a msgid, so the
    timeline reads in each person's language). Names of phases and people are copied in,
    so the history reads as it happened after renames and departures.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="transitions")
    decision = models.CharField(_("decision"), max_length=16, choices=Decision.choices)
    from_phase = models.ForeignKey(
        Phase, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_phase = models.ForeignKey(
        Phase, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_phase_name = models.CharField(max_length=120, blank=True)
    to_phase_name = models.CharField(max_length=120, blank=True)
    status_before = models.CharField(max_length=16, choices=ProjectStatus.choices)
    status_after = models.CharField(max_length=16, choices=ProjectStatus.choices)
    note = models.TextField(_("note"), blank=True)
    criteria = models.JSONField(default=list, blank=True)
    override = models.BooleanField(default=False)
    override_reason = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("phase transition")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.decision} {self.from_phase_name} -> {self.to_phase_name}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValueError("Phase transitions are never changed once written.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError("Phase transitions are never deleted (only with their project).")

    @property
    def unmet(self) -> list[dict[str, Any]]:
        return [c for c in self.criteria or [] if not c.get("met")]


# --- WBS, dependencies ------------------------------------------------------------------


class WorkItem(TenantModel):
    """A node of the WBS: a work package (a leaf with a duration), a milestone (a leaf of
    zero duration) or a summary (a parent, whose figures are its children's roll-up)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="work_items")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    position = models.PositiveIntegerField(default=0)
    phase = models.ForeignKey(
        Phase,
        verbose_name=_("phase"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="work_items",
    )
    name = models.CharField(_("name"), max_length=300)
    duration_days = models.PositiveIntegerField(
        _("duration (working days)"), default=1, validators=[MaxValueValidator(10_000)]
    )
    effort_hours = models.DecimalField(
        _("effort (hours)"),
        max_digits=12,
        decimal_places=2,
        default=ZERO,
        validators=[MinValueValidator(ZERO)],
    )
    budget = models.DecimalField(
        _("budget"),
        max_digits=16,
        decimal_places=2,
        default=ZERO,
        validators=[MinValueValidator(ZERO)],
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    percent_complete = models.DecimalField(
        _("progress (%)"),
        max_digits=5,
        decimal_places=2,
        default=ZERO,
        validators=[MinValueValidator(ZERO), MaxValueValidator(Decimal(100))],
    )
    actual_start = models.DateField(_("actual start"), null=True, blank=True)
    actual_finish = models.DateField(_("actual finish"), null=True, blank=True)
    start_no_earlier_than = models.DateField(_("start no earlier than"), null=True, blank=True)
    external_id = models.CharField(_("external id"), max_length=255, null=True, blank=True)

    # Derived, kept by services in the transaction of each change.
    wbs_code = models.CharField(max_length=120, blank=True, editable=False)
    wbs_path = models.CharField(max_length=600, blank=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    is_summary = models.BooleanField(default=False, editable=False)
    early_start = models.DateField(null=True, blank=True, editable=False)
    early_finish = models.DateField(null=True, blank=True, editable=False)
    late_start = models.DateField(null=True, blank=True, editable=False)
    late_finish = models.DateField(null=True, blank=True, editable=False)
    total_float = models.IntegerField(null=True, blank=True, editable=False)
    free_float = models.IntegerField(null=True, blank=True, editable=False)
    critical = models.BooleanField(default=False, editable=False)

    class Meta:
        verbose_name = _("work item")
        ordering = ["wbs_path"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "external_id"],
                condition=Q(external_id__isnull=False),
                name="work_item_external_id_unique",
            ),
            models.CheckConstraint(
                condition=Q(percent_complete__gte=0, percent_complete__lte=100),
                name="work_item_percent_range",
            ),
        ]
        indexes = [
            models.Index(fields=["project", "wbs_path"], name="work_item_project_wbs_idx"),
            # The API lists a project's items in id order (cursor pages).
            models.Index(fields=["project", "id"], name="work_item_project_id_idx"),
            models.Index(
                fields=["organization", "assignee", "early_finish"],
                name="work_item_assignee_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.wbs_code} {self.name}".strip()

    @property
    def is_milestone(self) -> bool:
        return not self.is_summary and self.duration_days == 0

    @property
    def is_done(self) -> bool:
        return self.percent_complete >= 100


class Dependency(TenantModel):
    class Type(models.TextChoices):
        FS = "FS", _("Finish to start")
        SS = "SS", _("Start to start")
        FF = "FF", _("Finish to finish")
        SF = "SF", _("Start to finish")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="dependencies")
    predecessor = models.ForeignKey(
        WorkItem,
        verbose_name=_("predecessor"),
        on_delete=models.CASCADE,
        related_name="successor_links",
    )
    successor = models.ForeignKey(
        WorkItem,
        verbose_name=_("successor"),
        on_delete=models.CASCADE,
        related_name="predecessor_links",
    )
    type = models.CharField(_("type"), max_length=2, choices=Type.choices, default=Type.FS)
    lag_days = models.IntegerField(
        _("lag (working days)"),
        default=0,
        validators=[MinValueValidator(-10_000), MaxValueValidator(10_000)],
    )

    class Meta:
        verbose_name = _("dependency")
        verbose_name_plural = _("dependencies")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["predecessor", "successor"], name="dependency_unique_pair"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.predecessor_id} {self.type} {self.successor_id}"


# --- Baselines, budget, costs and change control (issue 9, part 2) ----------------------
# Written by ``projects.control``; read by ``projects.evm`` (earned value).


class _Immutable(TenantModel):
    """A record that is never changed or deleted once written (deleted only with its
    project)."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValueError(f"{type(self).__name__} rows are never changed once written.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError(f"{type(self).__name__} rows are never deleted (only with the project).")


class BudgetCategory(models.TextChoices):
    """The built-in cost categories; an organization adds its own (``CostCategory``)."""

    LABOUR = "labour", _("Labour")
    MATERIAL = "material", _("Material")
    EQUIPMENT = "equipment", _("Equipment")
    SERVICES = "services", _("Services")
    OTHER = "other", _("Other")


class CostCategory(TenantModel):
    """An organization-defined category of budget lines and cost entries."""

    key = models.SlugField(_("key"), max_length=40)
    name = models.CharField(_("name"), max_length=120)

    class Meta:
        verbose_name = _("cost category")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="cost_category_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Baseline(_Immutable):
    """A numbered snapshot of the plan: per work item (``BaselineItem``) and in total.

    Number 1 is set by the manager; every later one is created by implementing an approved
    change request (``change_request``)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="baselines")
    number = models.PositiveIntegerField(_("number"))
    name = models.CharField(_("name"), max_length=200)
    change_request = models.ForeignKey(
        "projects.ChangeRequest",
        verbose_name=_("change request"),
        null=True,
        blank=True,
        on_delete=models.RESTRICT,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_label = models.CharField(max_length=300, blank=True)
    start = models.DateField(null=True, blank=True)
    finish = models.DateField(null=True, blank=True)
    duration_days = models.PositiveIntegerField(default=0)
    effort_hours = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO)
    # BAC: the work packages' budgets plus the budget lines tied to no work package.
    budget = models.DecimalField(max_digits=18, decimal_places=2, default=ZERO)
    unassigned_budget = models.DecimalField(max_digits=18, decimal_places=2, default=ZERO)
    contingency_reserve = models.DecimalField(max_digits=18, decimal_places=2, default=ZERO)
    management_reserve = models.DecimalField(max_digits=18, decimal_places=2, default=ZERO)
    critical_path = models.JSONField(default=list, blank=True)
    # Budget line ids baselined here: direct edits of these are refused on an active project.
    budget_lines = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("baseline")
        ordering = ["project", "number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="baseline_number_unique")
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.name}"


class BaselineItem(_Immutable):
    """One work item as the baseline planned it. ``work_item_key`` keeps the id after the
    item is removed (``work_item`` then becomes null)."""

    baseline = models.ForeignKey(Baseline, on_delete=models.CASCADE, related_name="items")
    work_item = models.ForeignKey(
        WorkItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    work_item_key = models.UUIDField()
    wbs_code = models.CharField(max_length=120, blank=True)
    name = models.CharField(max_length=300)
    is_summary = models.BooleanField(default=False)
    planned_start = models.DateField(null=True, blank=True)
    planned_finish = models.DateField(null=True, blank=True)
    duration_days = models.PositiveIntegerField(default=0)
    effort_hours = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    budget = models.DecimalField(max_digits=16, decimal_places=2, default=ZERO)

    class Meta:
        ordering = ["baseline", "wbs_code"]
        indexes = [models.Index(fields=["baseline", "work_item_key"], name="baseline_item_key_idx")]

    def __str__(self) -> str:
        return f"{self.wbs_code} {self.name}"


class BudgetLine(TenantModel):
    """Part of a project's budget, by category and optionally for one work package (whose
    budget is then the sum of its lines)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="budget_lines")
    work_item = models.ForeignKey(
        WorkItem,
        verbose_name=_("work package"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="budget_lines",
    )
    category = models.CharField(_("category"), max_length=40, default=BudgetCategory.OTHER)
    description = models.CharField(_("description"), max_length=300, blank=True)
    amount = models.DecimalField(
        _("amount"), max_digits=16, decimal_places=2, validators=[MinValueValidator(ZERO)]
    )

    class Meta:
        verbose_name = _("budget line")
        ordering = ["project", "category", "created_at", "id"]
        indexes = [models.Index(fields=["project", "id"], name="budget_line_project_idx")]

    def __str__(self) -> str:
        return f"{self.category} {self.amount}"


class ReserveKind(models.TextChoices):
    CONTINGENCY = "contingency", _("Contingency reserve")
    MANAGEMENT = "management", _("Management reserve")


class ReserveEntry(_Immutable):
    """A movement of a reserve: positive adds to it, negative draws it down. The balance is
    the sum. A management-reserve movement always names its change request."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="reserve_entries")
    reserve = models.CharField(_("reserve"), max_length=16, choices=ReserveKind.choices)
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    reason = models.TextField(_("reason"))
    # The risk whose response drew on the reserve: risks sit above projects, so an id.
    risk_id = models.UUIDField(null=True, blank=True)
    change_request = models.ForeignKey(
        "projects.ChangeRequest", null=True, blank=True, on_delete=models.RESTRICT, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("reserve entry")
        ordering = ["project", "created_at", "id"]


class CostEntry(TenantModel):
    """An actual cost. Labour entries carry the hours and the rate they were priced at."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="cost_entries")
    work_item = models.ForeignKey(
        WorkItem,
        verbose_name=_("work item"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cost_entries",
    )
    category = models.CharField(_("category"), max_length=40, default=BudgetCategory.OTHER)
    date = models.DateField(_("date"))
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    note = models.TextField(_("note"), blank=True)
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    hours = models.DecimalField(_("hours"), max_digits=10, decimal_places=2, null=True, blank=True)
    rate = models.DecimalField(_("rate"), max_digits=12, decimal_places=2, null=True, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    entered_by_label = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("cost entry")
        verbose_name_plural = _("cost entries")
        ordering = ["project", "date", "id"]
        indexes = [
            models.Index(fields=["project", "date"], name="cost_entry_project_date_idx"),
            models.Index(fields=["project", "id"], name="cost_entry_project_id_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.amount}"


class LabourRate(TenantModel):
    """An hourly rate for a person, or for everyone of a role without a rate of their own."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    role = models.CharField(_("role"), max_length=16, blank=True)
    rate = models.DecimalField(
        _("hourly rate"), max_digits=12, decimal_places=2, validators=[MinValueValidator(ZERO)]
    )

    class Meta:
        verbose_name = _("labour rate")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "person"],
                condition=Q(person__isnull=False),
                name="labour_rate_person_unique",
            ),
            models.UniqueConstraint(
                fields=["organization", "role"],
                condition=Q(person__isnull=True),
                name="labour_rate_role_unique",
            ),
        ]


class ProgressRecord(_Immutable):
    """Percent complete of a work item as recorded on a date: earned value as of a past
    date reads the record of that time, not today's figure."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    work_item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="progress")
    date = models.DateField(_("date"))
    percent_complete = models.DecimalField(max_digits=5, decimal_places=2)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["work_item", "date", "created_at"]
        indexes = [models.Index(fields=["project", "date"], name="progress_project_date_idx")]


class ChangeRequestStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    IMPLEMENTED = "implemented", _("Implemented")


class ChangeRequest(TenantModel):
    """A proposed change of baselined scope, schedule or budget (``changes``, see
    ``projects.control.CHANGE_KINDS``), with its computed ``impact``; its states are data
    (``projects.control.CR_TRANSITIONS``)."""

    Status = ChangeRequestStatus

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="change_requests")
    number = models.PositiveIntegerField(_("number"))
    title = models.CharField(_("title"), max_length=200)
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=ChangeRequestStatus.choices,
        default=ChangeRequestStatus.DRAFT,
    )
    changes = models.JSONField(_("proposed changes"), default=list, blank=True)
    # {"finish_before", "finish_after", "slip_days", "critical_before", "critical_after",
    #  "budget_before", "budget_after", "computed_at", "error"}
    impact = models.JSONField(default=dict, blank=True, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_via_key = models.UUIDField(null=True, blank=True, editable=False)
    requested_by_label = models.CharField(max_length=300, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by_label = models.CharField(max_length=300, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    implemented_by_label = models.CharField(max_length=300, blank=True)
    implemented_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("change request")
        ordering = ["project", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="change_request_number")
        ]
        indexes = [models.Index(fields=["organization", "status"], name="cr_org_status_idx")]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    @property
    def code(self) -> str:
        return f"CR-{self.number}"
