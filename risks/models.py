"""The risk register: one ``Risk`` for both sides, its score history and its indicator values.

A risk is about a subject of either side (``subject_type`` / ``subject_id``, a key of the
subject registry: customer, engagement, project or work item; a milestone is a work item of
zero duration). ``side`` and the links ``customer`` / ``engagement`` / ``project`` /
``work_item`` are derived from the subject by the service that sets it, so that filters,
the matrix and health read them with plain queries. ``score``/``level`` (and the residual
ones, the RPN and the Action Priority) are stored by the services from ``risks.calc``, and
re-read when the organization changes its matrix.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.tenancy import TenantModel

ONE_TO_FIVE = [MinValueValidator(1), MaxValueValidator(5)]
ONE_TO_TEN = [MinValueValidator(1), MaxValueValidator(10)]


class Side(models.TextChoices):
    BUSINESS = "business", _("Business")
    PROJECT = "project", _("Project")


class RiskStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("risk status", "Open")
    OCCURRED = "occurred", pgettext_lazy("risk status", "Occurred")
    CLOSED = "closed", pgettext_lazy("risk status", "Closed")


# Legal moves of a risk's status (the services refuse the others).
TRANSITIONS: dict[str, frozenset[str]] = {
    RiskStatus.OPEN: frozenset({RiskStatus.OCCURRED, RiskStatus.CLOSED}),
    RiskStatus.OCCURRED: frozenset({RiskStatus.CLOSED, RiskStatus.OPEN}),
    RiskStatus.CLOSED: frozenset({RiskStatus.OPEN}),
}


class Level(models.TextChoices):
    LOW = "low", pgettext_lazy("risk level", "Low")
    MEDIUM = "medium", pgettext_lazy("risk level", "Medium")
    HIGH = "high", pgettext_lazy("risk level", "High")


class Strategy(models.TextChoices):
    AVOID = "avoid", _("Avoid")
    MITIGATE = "mitigate", _("Mitigate")
    TRANSFER = "transfer", _("Transfer")
    ACCEPT = "accept", _("Accept")
    ESCALATE = "escalate", _("Escalate")


class Direction(models.TextChoices):
    UP = "up", _("Higher is worse")
    DOWN = "down", _("Lower is worse")


class Zone(models.TextChoices):
    GREEN = "green", _("Green")
    AMBER = "amber", _("Amber")
    RED = "red", _("Red")


class Risk(TenantModel):
    Status = RiskStatus

    # The subject (a key of followup.kernel.subjects and the id of that row) and what is
    # derived from it.
    subject_type = models.CharField(_("subject type"), max_length=32)
    subject_id = models.UUIDField(_("subject"))
    side = models.CharField(_("side"), max_length=16, choices=Side.choices, editable=False)
    customer = models.ForeignKey(
        "engagements.Customer",
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    engagement = models.ForeignKey(
        "engagements.Engagement",
        verbose_name=_("engagement"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    project = models.ForeignKey(
        "projects.Project",
        verbose_name=_("project"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    work_item = models.ForeignKey(
        "projects.WorkItem",
        verbose_name=_("work item"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    title = models.CharField(_("title"), max_length=200)
    cause = models.TextField(_("cause"), blank=True)
    event = models.TextField(_("risk event"), blank=True)
    effect = models.TextField(_("effect"), blank=True)
    category = models.CharField(_("category"), max_length=40, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    trigger = models.TextField(_("trigger"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=RiskStatus.choices, default=RiskStatus.OPEN
    )
    occurred_at = models.DateTimeField(_("occurred at"), null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, editable=False)

    # Inherent rating (before the response) and the residual one (after it).
    probability = models.PositiveSmallIntegerField(_("probability"), validators=ONE_TO_FIVE)
    impact = models.PositiveSmallIntegerField(_("impact"), validators=ONE_TO_FIVE)
    score = models.PositiveSmallIntegerField(_("score"), default=1, editable=False)
    level = models.CharField(
        _("level"), max_length=8, choices=Level.choices, default=Level.LOW, editable=False
    )
    residual_probability = models.PositiveSmallIntegerField(
        _("residual probability"), null=True, blank=True, validators=ONE_TO_FIVE
    )
    residual_impact = models.PositiveSmallIntegerField(
        _("residual impact"), null=True, blank=True, validators=ONE_TO_FIVE
    )
    residual_score = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    residual_level = models.CharField(
        max_length=8, choices=Level.choices, blank=True, editable=False
    )

    # FMEA (optional): pre-action and post-action ratings; RPN and AP stored for sorting.
    failure_mode = models.CharField(_("failure mode"), max_length=200, blank=True)
    controls = models.TextField(_("current controls"), blank=True)
    severity = models.PositiveSmallIntegerField(
        _("severity"), null=True, blank=True, validators=ONE_TO_TEN
    )
    occurrence = models.PositiveSmallIntegerField(
        _("occurrence"), null=True, blank=True, validators=ONE_TO_TEN
    )
    detection = models.PositiveSmallIntegerField(
        _("detection"), null=True, blank=True, validators=ONE_TO_TEN
    )
    rpn = models.PositiveSmallIntegerField(_("RPN"), null=True, blank=True, editable=False)
    action_priority = models.CharField(
        _("action priority"), max_length=1, blank=True, editable=False
    )
    post_severity = models.PositiveSmallIntegerField(
        _("severity after actions"), null=True, blank=True, validators=ONE_TO_TEN
    )
    post_occurrence = models.PositiveSmallIntegerField(
        _("occurrence after actions"), null=True, blank=True, validators=ONE_TO_TEN
    )
    post_detection = models.PositiveSmallIntegerField(
        _("detection after actions"), null=True, blank=True, validators=ONE_TO_TEN
    )
    post_rpn = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    post_action_priority = models.CharField(max_length=1, blank=True, editable=False)

    # Response.
    strategy = models.CharField(
        _("response strategy"), max_length=16, choices=Strategy.choices, blank=True
    )
    response_plan = models.TextField(_("response plan"), blank=True)
    contingency_amount = models.DecimalField(
        _("contingency amount"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    fallback_plan = models.TextField(_("fallback plan"), blank=True)

    # Escalation (business risk -> project risk) and early-warning origin.
    escalated_from = models.ForeignKey(
        "self",
        verbose_name=_("escalated from"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="escalations",
        editable=False,
    )
    # {"rule": ..., "reason": ...} for a risk raised by an early-warning rule, else null.
    signal = models.JSONField(null=True, blank=True, editable=False)

    # Key risk indicator: a watched number with amber and red thresholds.
    indicator_name = models.CharField(_("indicator"), max_length=120, blank=True)
    indicator_unit = models.CharField(_("unit"), max_length=20, blank=True)
    indicator_amber = models.DecimalField(
        _("amber threshold"), max_digits=18, decimal_places=4, null=True, blank=True
    )
    indicator_red = models.DecimalField(
        _("red threshold"), max_digits=18, decimal_places=4, null=True, blank=True
    )
    indicator_direction = models.CharField(
        _("direction"), max_length=4, choices=Direction.choices, default=Direction.UP
    )
    indicator_zone = models.CharField(
        max_length=8, choices=Zone.choices, blank=True, editable=False
    )
    indicator_value = models.DecimalField(
        max_digits=18, decimal_places=4, null=True, blank=True, editable=False
    )
    # The probability assessed without the indicator: a return to green restores it.
    baseline_probability = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("risk")
        ordering = ["-score", "-created_at"]
        indexes = [
            models.Index(fields=["organization", "status", "side"], name="risk_org_status_side"),
            models.Index(fields=["organization", "project"], name="risk_org_project"),
            models.Index(fields=["organization", "customer"], name="risk_org_customer"),
            models.Index(
                fields=["organization", "subject_type", "subject_id"], name="risk_org_subject"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(probability__gte=1, probability__lte=5, impact__gte=1, impact__lte=5),
                name="risk_rating_one_to_five",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def has_fmea(self) -> bool:
        return None not in (self.severity, self.occurrence, self.detection)

    @property
    def has_post_fmea(self) -> bool:
        return None not in (self.post_severity, self.post_occurrence, self.post_detection)

    @property
    def has_indicator(self) -> bool:
        return self.indicator_amber is not None and self.indicator_red is not None

    @property
    def is_open(self) -> bool:
        return self.status == RiskStatus.OPEN


class RatingSource(models.TextChoices):
    ASSESSED = "assessed", _("Assessed")
    INDICATOR = "indicator", _("Key risk indicator")
    MATRIX = "matrix", _("Matrix changed")


class RiskRating(TenantModel):
    """One rating of a risk as it stood after a (re-)rating: who, when, why. Never changed."""

    risk = models.ForeignKey(Risk, on_delete=models.CASCADE, related_name="ratings")
    source = models.CharField(max_length=16, choices=RatingSource.choices)
    probability = models.PositiveSmallIntegerField()
    impact = models.PositiveSmallIntegerField()
    score = models.PositiveSmallIntegerField()
    level = models.CharField(max_length=8, choices=Level.choices)
    residual_probability = models.PositiveSmallIntegerField(null=True, blank=True)
    residual_impact = models.PositiveSmallIntegerField(null=True, blank=True)
    residual_score = models.PositiveSmallIntegerField(null=True, blank=True)
    residual_level = models.CharField(max_length=8, choices=Level.choices, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["risk", "created_at"], name="risk_rating_risk_at")]

    def __str__(self) -> str:
        return f"{self.risk_id} P{self.probability} I{self.impact}"


class IndicatorValue(TenantModel):
    """One reading of a risk's key risk indicator, with the zone it fell in."""

    risk = models.ForeignKey(Risk, on_delete=models.CASCADE, related_name="indicator_values")
    value = models.DecimalField(max_digits=18, decimal_places=4)
    observed_at = models.DateTimeField()
    zone = models.CharField(max_length=8, choices=Zone.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["observed_at", "id"]
        indexes = [models.Index(fields=["risk", "observed_at"], name="risk_kri_risk_at")]

    def __str__(self) -> str:
        return f"{self.risk_id} {self.value} at {self.observed_at:%Y-%m-%d}"


# --- Milestone risk reviews ---------------------------------------------------------------


class ReviewStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    OPEN = "open", _("Open")
    DONE = "done", _("Signed off")


class RiskReview(TenantModel):
    """The risk review of one milestone for one planned date.

    Scheduled when the milestone gets a planned date; opened by the beat (``risks.reviews``)
    ``lead`` working days before that date, exactly once: opening is a conditional status
    change in the transaction that creates the manager's follow-up and records
    ``milestone.review_due``, and the tick claims due rows (``followup.kernel.claims``) so
    two beats and a killed worker cannot open it twice. While pending it follows its
    milestone's date; signed off, it stays with the date it reviewed.
    """

    Status = ReviewStatus
    PENDING = (ReviewStatus.SCHEDULED, ReviewStatus.OPEN)

    project = models.ForeignKey(
        "projects.Project",
        verbose_name=_("project"),
        on_delete=models.CASCADE,
        related_name="risk_reviews",
    )
    milestone = models.ForeignKey(
        "projects.WorkItem",
        verbose_name=_("milestone"),
        on_delete=models.CASCADE,
        related_name="risk_reviews",
    )
    planned_date = models.DateField(_("milestone date"))
    due_at = models.DateTimeField(_("due"))
    status = models.CharField(
        _("status"), max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.SCHEDULED
    )
    # Opened only after its milestone's date had passed.
    late = models.BooleanField(_("late"), default=False)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    followup = models.ForeignKey(
        "followup.FollowUp", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    opened_at = models.DateTimeField(null=True, blank=True, editable=False)
    signed_off_at = models.DateTimeField(null=True, blank=True, editable=False)
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(_("note"), blank=True)
    # The sponsor was told that the review is overdue (once).
    escalated_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The tick working on it (followup.kernel.claims).
    claim = models.UUIDField(null=True, blank=True, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("milestone risk review")
        ordering = ["planned_date", "created_at"]
        constraints = [
            # One pending review per milestone: the one that moves with it.
            models.UniqueConstraint(
                fields=["milestone"],
                condition=Q(status__in=["scheduled", "open"]),
                name="risk_review_one_pending_per_milestone",
            ),
            models.UniqueConstraint(
                fields=["milestone", "planned_date"], name="risk_review_one_per_milestone_date"
            ),
        ]
        indexes = [
            # What the opening tick scans.
            models.Index(
                fields=["due_at"],
                condition=Q(status="scheduled"),
                name="risk_review_scheduled_due_idx",
            ),
            models.Index(fields=["organization", "project"], name="risk_review_org_project_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.milestone_id} {self.planned_date}"


class ReviewPolicy(TenantModel):
    """A project's own lead time for milestone risk reviews (else the organization's)."""

    project = models.OneToOneField(
        "projects.Project", on_delete=models.CASCADE, related_name="risk_review_policy"
    )
    lead_working_days = models.PositiveSmallIntegerField(
        _("review lead (working days)"),
        validators=[MinValueValidator(0), MaxValueValidator(60)],
    )

    class Meta:
        verbose_name = _("milestone review policy")

    def __str__(self) -> str:
        return f"{self.project_id}: {self.lead_working_days}"


# --- Early warnings and escalation -------------------------------------------------------


class EarlyWarning(TenantModel):
    """The open business risk an early-warning rule raised for one subject and reason.

    The partial unique constraint is the deduplication: while a warning is open, a rule
    firing again for the same subject and reason (however often, from however many
    processes at once) finds this row and updates its risk instead of raising another.
    A warning whose risk was closed is let go, so a later firing raises a new risk.
    """

    subject_type = models.CharField(max_length=32)
    subject_id = models.UUIDField()
    rule = models.CharField(max_length=40)
    reason_key = models.CharField(max_length=120)
    risk = models.OneToOneField(Risk, on_delete=models.CASCADE, related_name="early_warning")
    is_open = models.BooleanField(default=True)
    fired_count = models.PositiveIntegerField(default=1)
    last_fired_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "subject_type", "subject_id", "rule", "reason_key"],
                condition=Q(is_open=True),
                name="early_warning_one_open_per_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule}:{self.reason_key} on {self.subject_type} {self.subject_id}"


class Escalation(TenantModel):
    """A business risk carried into one project: its escalated project risk and the drafted
    request to put the project on hold. Unique per (business risk, project), so the signal
    may repeat any number of times and the project still gets one of each."""

    source = models.ForeignKey(Risk, on_delete=models.CASCADE, related_name="escalations_out")
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="+")
    project_risk = models.OneToOneField(
        Risk, on_delete=models.CASCADE, related_name="escalation_in"
    )
    # The drafted hold request: a change request of project follow-up when that exists
    # (its id), else the sponsor's follow-up to decide on the hold.
    change_request_id = models.UUIDField(null=True, blank=True)
    hold_followup = models.ForeignKey(
        "followup.FollowUp", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "project"], name="escalation_one_per_project"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} -> {self.project_id}"
