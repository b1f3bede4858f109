"""Business follow-up: customers, their contacts, engagements, touchpoints and health.

Health (score, level, explained signals) is stored on the engagement when it is recomputed
(``services.engagement_health_refresh``) and copied to the customer as the worst of its
active engagements, so that the customer list can filter and sort by it without a join
over a million touchpoints. ``last_touch_at`` is denormalized for the same reason.
"""

from __future__ import annotations

import contextlib
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from accounts import inputs
from accounts.tenancy import TenantModel

currency_validator = RegexValidator(
    r"^[A-Z]{3}$", _("Use a three-letter ISO 4217 currency code, e.g. EUR.")
)


class HealthLevel(models.TextChoices):
    GREEN = "green", _("Green")
    AMBER = "amber", _("Amber")
    RED = "red", _("Red")


class Customer(TenantModel):
    class Status(models.TextChoices):
        PROSPECT = "prospect", _("Prospect")
        ACTIVE = "active", _("Active")
        AT_RISK = "at_risk", _("At risk")
        CHURNED = "churned", _("Churned")

    class Tier(models.TextChoices):
        STRATEGIC = "strategic", _("Strategic")
        KEY = "key", pgettext_lazy("customer tier", "Key")
        STANDARD = "standard", _("Standard")
        SMALL = "small", _("Small")

    name = models.CharField(_("name"), max_length=200)
    external_id = models.CharField(_("external id"), max_length=255, null=True, blank=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    tier = models.CharField(_("tier"), max_length=16, choices=Tier.choices, default=Tier.STANDARD)
    status = models.CharField(
        _("lifecycle status"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    annual_value = models.DecimalField(
        _("annual value"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    currency = models.CharField(
        _("currency"), max_length=3, default="EUR", validators=[currency_validator]
    )
    notes = models.TextField(_("notes"), blank=True)
    # Denormalized by the health service: the worst active engagement, and the last touch.
    health_score = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    health_level = models.CharField(
        max_length=8, choices=HealthLevel.choices, blank=True, editable=False
    )
    last_touch_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("customer")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "external_id"],
                condition=Q(external_id__isnull=False),
                name="customer_external_id_unique",
            )
        ]
        indexes = [
            # The list's default order is by name, case-insensitively.
            models.Index(F("organization"), Lower("name"), name="customer_org_lower_name_idx"),
            models.Index(fields=["organization", "status"], name="customer_org_status_idx"),
            models.Index(fields=["organization", "owner"], name="customer_org_owner_idx"),
            models.Index(fields=["organization", "health_score"], name="customer_org_health_idx"),
            models.Index(
                fields=["organization", "last_touch_at"], name="customer_org_last_touch_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Contact(TenantModel):
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=200)
    title = models.CharField(pgettext_lazy("job", "title"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    external_id = models.CharField(_("external id"), max_length=255, null=True, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    # The language a contact reads: surveys and other mail to them use it. Empty: the
    # organization's default language.
    language = models.CharField(
        _("language"), max_length=10, blank=True, default="", choices=settings.LANGUAGES
    )

    class Meta:
        verbose_name = _("contact")
        ordering = ["-is_primary", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "external_id"],
                condition=Q(external_id__isnull=False),
                name="contact_external_id_unique",
            ),
            models.UniqueConstraint(
                fields=["customer"], condition=Q(is_primary=True), name="contact_one_primary"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Engagement(TenantModel):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")
        CLOSED = "closed", _("Closed")

    # Legal moves; the service refuses the others (a closed engagement is reopened, not
    # paused, so its history reads as it happened).
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.ACTIVE: frozenset({Status.PAUSED, Status.CLOSED}),
        Status.PAUSED: frozenset({Status.ACTIVE, Status.CLOSED}),
        Status.CLOSED: frozenset({Status.ACTIVE}),
    }

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="engagements"
    )
    name = models.CharField(_("name"), max_length=200)
    objective = models.TextField(_("objective"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    team = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("team"), blank=True, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    started_on = models.DateField(_("started on"))
    cadence_days = models.PositiveSmallIntegerField(
        _("touch cadence (days)"),
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_("How often someone should be in touch, in days."),
    )
    external_id = models.CharField(_("external id"), max_length=255, null=True, blank=True)
    health_score = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    health_level = models.CharField(
        max_length=8, choices=HealthLevel.choices, blank=True, editable=False
    )
    health_signals = models.JSONField(default=list, blank=True, editable=False)
    health_computed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Start of the current red episode; the red notification's dedupe key is built from it,
    # so an episode notifies once however often health is recomputed.
    red_since = models.DateTimeField(null=True, blank=True, editable=False)
    last_touch_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("engagement")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "external_id"],
                condition=Q(external_id__isnull=False),
                name="engagement_external_id_unique",
            ),
            # The supported range of dates (accounts.inputs): no stored value can overflow.
            models.CheckConstraint(
                condition=Q(started_on__gte=inputs.FIRST_DAY, started_on__lte=inputs.LAST_DAY),
                name="engagement_started_on_in_range",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status"], name="engagement_org_status_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class Kpi(TenantModel):
    """A key performance indicator of an engagement, with its target.

    Most are computed from touchpoints (``Metric``); ``MANUAL`` ones carry a value that
    someone keeps up to date (renewal value, share of wallet).
    """

    class Metric(models.TextChoices):
        SATISFACTION = "satisfaction", _("Average satisfaction, last 90 days")
        TOUCH_INTERVAL = "touch_interval", _("Average days between touchpoints, last 90 days")
        TOUCHPOINTS_30D = "touchpoints_30d", _("Touchpoints in the last 30 days")
        EFFORT_HOURS_30D = "effort_hours_30d", _("Effort hours in the last 30 days")
        MANUAL = "manual", _("Entered by hand")

    # Lower is better for these; for every other metric higher is better.
    LOWER_IS_BETTER = frozenset({Metric.TOUCH_INTERVAL})

    engagement = models.ForeignKey(
        Engagement, verbose_name=_("engagement"), on_delete=models.CASCADE, related_name="kpis"
    )
    name = models.CharField(_("name"), max_length=120)
    metric = models.CharField(
        _("measured as"), max_length=24, choices=Metric.choices, default=Metric.MANUAL
    )
    target = models.DecimalField(_("target"), max_digits=14, decimal_places=2)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    manual_value = models.DecimalField(
        _("current value"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Only for KPIs entered by hand."),
    )

    class Meta:
        verbose_name = _("KPI")
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.name

    @property
    def lower_is_better(self) -> bool:
        return self.metric in self.LOWER_IS_BETTER


class BusinessEvent(models.TextChoices):
    CANCELLATION = "cancellation", _("Order cancelled")
    LOST_ORDER = "lost_order", _("Order lost")


class Touchpoint(TenantModel):
    BusinessEvent = BusinessEvent

    class Channel(models.TextChoices):
        CALL = "call", _("Call")
        EMAIL = "email", _("E-mail")
        MEETING = "meeting", _("Meeting")
        VISIT = "visit", _("Visit")
        CHAT = "chat", _("Chat")
        NOTE = "note", _("Note")

    class Source(models.TextChoices):
        UI = "ui", _("App")
        API = "api", _("API")
        IMPORT = "import", _("Import")

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="touchpoints"
    )
    engagement = models.ForeignKey(
        Engagement,
        verbose_name=_("engagement"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="touchpoints",
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    occurred_at = models.DateTimeField(_("when"))
    contacts = models.ManyToManyField(
        Contact, verbose_name=_("contacts"), blank=True, related_name="touchpoints"
    )
    summary = models.TextField(_("summary"))
    outcome = models.TextField(_("outcome"), blank=True)
    sentiment = models.SmallIntegerField(
        _("sentiment"),
        null=True,
        blank=True,
        validators=[MinValueValidator(-2), MaxValueValidator(2)],
        help_text=_("From -2 (very negative) to +2 (very positive)."),
    )
    satisfaction = models.PositiveSmallIntegerField(
        _("satisfaction"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text=_("Survey score from 1 to 5, if the customer gave one."),
    )
    effort_minutes = models.PositiveIntegerField(
        _("effort (minutes)"), default=0, validators=[MaxValueValidator(24 * 60)]
    )
    next_step = models.TextField(_("next step"), blank=True)
    # What the customer did to the business, if anything: the early-warning rules of the
    # risk register raise an occurred business risk from a cancellation or a lost order.
    business_event = models.CharField(
        _("business event"),
        max_length=16,
        choices=BusinessEvent.choices,
        blank=True,
        help_text=_("Record here when the customer cancelled an order or an order was lost."),
    )
    external_id = models.CharField(_("external id"), max_length=255, null=True, blank=True)
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("logged by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.UI)

    class Meta:
        verbose_name = _("touchpoint")
        ordering = ["-occurred_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "external_id"],
                condition=Q(external_id__isnull=False),
                name="touchpoint_external_id_unique",
            ),
            models.CheckConstraint(
                condition=Q(sentiment__gte=-2, sentiment__lte=2) | Q(sentiment__isnull=True),
                name="touchpoint_sentiment_range",
            ),
            models.CheckConstraint(
                condition=Q(occurred_at__gte=inputs.EARLIEST, occurred_at__lt=inputs.END),
                name="touchpoint_occurred_at_in_range",
            ),
            models.CheckConstraint(
                condition=Q(satisfaction__gte=1, satisfaction__lte=5)
                | Q(satisfaction__isnull=True),
                name="touchpoint_satisfaction_range",
            ),
        ]
        indexes = [
            # Timelines: newest first per customer and per engagement.
            models.Index(fields=["customer", "-occurred_at"], name="touchpoint_customer_time_idx"),
            models.Index(
                fields=["engagement", "-occurred_at"], name="touchpoint_engagement_time_idx"
            ),
            # Effort report: a month of the organization, by rep.
            models.Index(fields=["organization", "occurred_at"], name="touchpoint_org_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.occurred_at:%Y-%m-%d}"


class EffortMonth(TenantModel):
    """Minutes and touchpoints one person logged in one month (the organization's time
    zone): the effort page's roll-up, kept by the touchpoint services in the transaction
    of each write (``engagements.effort``), rebuilt by ``manage.py rebuild_effort_rollup``.

    ``person_id`` is the id of who logged them (``effort.NOBODY`` for touchpoints without
    one); a plain id, so that the roll-up does not move when an account is deleted."""

    month = models.DateField()
    person_id = models.UUIDField()
    minutes = models.BigIntegerField(default=0)
    touches = models.IntegerField(default=0)

    class Meta:
        ordering = ["month"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "month", "person_id"], name="effort_month_person"
            )
        ]


class CustomerEffortMonth(TenantModel):
    """Minutes and touchpoints logged for one customer in one month (see ``EffortMonth``)."""

    month = models.DateField()
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    minutes = models.BigIntegerField(default=0)
    touches = models.IntegerField(default=0)

    class Meta:
        ordering = ["month"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "month", "customer"], name="effort_month_customer"
            )
        ]
        indexes = [
            models.Index(
                fields=["organization", "month", "-minutes"], name="effort_month_top_customers"
            )
        ]


class HealthSnapshot(TenantModel):
    """The health of an engagement on one day (in the organization's time zone)."""

    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="health_snapshots"
    )
    day = models.DateField()
    score = models.PositiveSmallIntegerField()
    level = models.CharField(max_length=8, choices=HealthLevel.choices)

    class Meta:
        ordering = ["day"]
        constraints = [
            models.UniqueConstraint(fields=["engagement", "day"], name="health_snapshot_daily")
        ]

    def __str__(self) -> str:
        return f"{self.engagement_id} {self.day}: {self.score}"


class ImportJob(TenantModel):
    """A CSV file being imported by a Celery task; its rows and errors are kept for the page.

    The file's text lives in the row, not on a disk, so web and worker need no shared
    volume; imports are capped in size (``imports.MAX_BYTES``).
    """

    class Kind(models.TextChoices):
        CUSTOMERS = "customers", _("Customers")
        CONTACTS = "contacts", _("Contacts")
        TOUCHPOINTS = "touchpoints", _("Touchpoints")
        # A kind registered by another app (``imports.register_kind``): projects.
        COST_ENTRIES = "cost_entries", _("Actual costs")

    # The kinds of the customer import page (the others have their own pages).
    CUSTOMER_SIDE = ("customers", "contacts", "touchpoints")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        CHECKING = "checking", _("Checking rows")
        WRITING = "writing", _("Writing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    # Not finished: a run may (still, or again) work on it.
    UNFINISHED = (Status.QUEUED, Status.CHECKING, Status.WRITING)

    kind = models.CharField(_("what"), max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    filename = models.CharField(max_length=255, blank=True)
    content = models.TextField()
    timezone = models.CharField(max_length=64, default="UTC")
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    # For a registered kind: the object its rows go into (a project for cost entries), no
    # foreign key, as this app may not know the other's models.
    target_id = models.UUIDField(null=True, blank=True, db_index=True)
    # The run working on it (``engagements.imports``): a token and when it was last heard
    # from. A claim older than FOLLOWUP_IMPORT_CLAIM_TIMEOUT is a dead run's, taken over.
    claim = models.UUIDField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # When its task was last handed to the broker, and when that last failed (the broker
    # was unreachable): the job then waits for the tick that queues it again.
    queued_at = models.DateTimeField(null=True, blank=True)
    queue_failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # What the requeue tick scans: the jobs not finished yet.
            models.Index(
                fields=["created_at"],
                condition=Q(status__in=["queued", "checking", "writing"]),
                name="importjob_unfinished_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} import {self.filename}"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def shown_errors(self) -> list[dict[str, Any]]:
        """The stored errors in the reader's language: each is kept as a message id and its
        parameters (``imports.error_entry``); older rows only have their English text."""
        shown = []
        for error in self.errors:
            message = error.get("message", "")
            if error.get("msgid"):
                with contextlib.suppress(KeyError, TypeError, ValueError):
                    message = gettext(error["msgid"]) % (error.get("params") or {})
            shown.append({**error, "message": message})
        return shown

    @property
    def waiting_for_worker(self) -> bool:
        """Its task could not be queued (broker unreachable) and no run has started it."""
        return self.status == self.Status.QUEUED and self.queue_failed_at is not None

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.total_rows:
            return 0
        return min(99, int(self.processed_rows * 100 / self.total_rows))


class SurveyRequest(TenantModel):
    """A short satisfaction survey sent to a contact by e-mail (``engagements.surveys``).

    The link carries a signed token naming this row; it expires (``expires_at``) and is
    single-use (``answered_at``, set by a conditional update). The answer is logged as a
    touchpoint whose satisfaction is the CSAT score, so it feeds health and the
    early-warning rules like any other.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="surveys")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="surveys")
    engagement = models.ForeignKey(
        Engagement, null=True, blank=True, on_delete=models.SET_NULL, related_name="surveys"
    )
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField()
    emailed_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    csat = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    nps = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(10)]
    )
    comment = models.TextField(blank=True)
    touchpoint = models.ForeignKey(
        Touchpoint, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["organization", "contact", "-created_at"], name="survey_contact_idx"
            )
        ]

    def __str__(self) -> str:
        return f"survey {self.contact_id} {self.created_at:%Y-%m-%d}"
