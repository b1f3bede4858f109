"""The risk register: milestone risk reviews (monitoring and escalation part).

Models of the register itself (risks, score history, FMEA) come with their issue part.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import TenantModel

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
