"""Forms of the risk register pages. Model choices are scoped to the organization
(``OrgFormMixin``); the subject is one choice among the organization's customers,
engagements, projects and work items, resolved again by the service."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.mixins import OrgFormMixin
from accounts.models import Organization, User
from engagements.models import Customer, Engagement
from projects.models import Project, WorkItem
from risks import selectors
from risks.models import Direction, Level, RiskStatus, Side, Strategy
from risks.selectors import RiskFilters, RiskSettings

SUBJECT_LIMIT = 500
SORTS = [
    ("-score", _("Score, highest first")),
    ("score", _("Score, lowest first")),
    ("-residual", _("Residual score, highest first")),
    ("title", _("Title")),
    ("-updated", _("Recently changed")),
    ("-rpn", _("RPN, highest first")),
]


def _until_scoped(model: type[Any]) -> Any:
    return model.objects.dangerously_unscoped().none()


class PersonChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: User) -> str:
        return obj.name


def _people(field: forms.Field, org: Organization) -> None:
    from projects import selectors as project_selectors

    if isinstance(field, forms.ModelChoiceField):
        field.queryset = project_selectors.org_people(org)


def subject_choices(org: Organization) -> list[tuple[str, list[tuple[str, str]]]]:
    """Grouped choices ``type:id`` for every possible subject (four queries)."""
    customers = Customer.objects.for_org(org).order_by("name")[:SUBJECT_LIMIT]
    engagements = (
        Engagement.objects.for_org(org).select_related("customer").order_by("name")[:SUBJECT_LIMIT]
    )
    projects = Project.objects.for_org(org).order_by("code")[:SUBJECT_LIMIT]
    items = (
        WorkItem.objects.for_org(org)
        .select_related("project")
        .order_by("project__code", "wbs_path")[:SUBJECT_LIMIT]
    )
    return [
        (gettext("Customers"), [(f"customer:{c.pk}", c.name) for c in customers]),
        (
            gettext("Engagements"),
            [(f"engagement:{e.pk}", f"{e.name} · {e.customer.name}") for e in engagements],
        ),
        (gettext("Projects"), [(f"project:{p.pk}", f"{p.code} {p.name}") for p in projects]),
        (
            gettext("Work items and milestones"),
            [
                (
                    f"work_item:{w.pk}",
                    f"{w.project.code} {w.wbs_code} {w.name}"
                    + (" ◆" if w.duration_days == 0 else ""),
                )
                for w in items
            ],
        ),
    ]


def _scale(words: dict[int, str] | Any, top: int) -> list[tuple[int, str]]:
    return [(n, f"{n} · {gettext(words[n])}") for n in range(1, top + 1)]


def _optional_scale(words: Any, top: int) -> list[tuple[Any, str]]:
    return [("", "—"), *_scale(words, top)]


class RiskForm(OrgFormMixin, forms.Form):
    subject = forms.ChoiceField(label=_("About"))
    title = forms.CharField(label=_("Title"), max_length=200)
    cause = forms.CharField(
        label=_("Cause"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    event = forms.CharField(
        label=_("Risk event"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    effect = forms.CharField(
        label=_("Effect"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    category = forms.ChoiceField(label=_("Category"), required=False)
    owner = PersonChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False)
    trigger = forms.CharField(
        label=_("Trigger"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What tells you the risk is about to happen."),
    )
    probability = forms.TypedChoiceField(label=_("Probability"), coerce=int)
    impact = forms.TypedChoiceField(label=_("Impact"), coerce=int)
    residual_probability = forms.TypedChoiceField(
        label=_("Residual probability"), coerce=int, required=False, empty_value=None
    )
    residual_impact = forms.TypedChoiceField(
        label=_("Residual impact"), coerce=int, required=False, empty_value=None
    )
    reason = forms.CharField(
        label=_("Why this rating"),
        required=False,
        max_length=500,
        help_text=_("Kept in the score history with the new rating."),
    )
    strategy = forms.ChoiceField(
        label=_("Response strategy"),
        required=False,
        choices=[("", "—"), *Strategy.choices],
    )
    response_plan = forms.CharField(
        label=_("Response plan"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    contingency_amount = forms.DecimalField(
        label=_("Contingency amount"),
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
    )
    currency = forms.CharField(label=_("Currency"), max_length=3, initial="EUR")
    fallback_plan = forms.CharField(
        label=_("Fallback plan"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    failure_mode = forms.CharField(label=_("Failure mode"), required=False, max_length=200)
    controls = forms.CharField(
        label=_("Current controls"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    severity = forms.TypedChoiceField(
        label=_("Severity"), coerce=int, required=False, empty_value=None
    )
    occurrence = forms.TypedChoiceField(
        label=_("Occurrence"), coerce=int, required=False, empty_value=None
    )
    detection = forms.TypedChoiceField(
        label=_("Detection"), coerce=int, required=False, empty_value=None
    )
    post_severity = forms.TypedChoiceField(
        label=_("Severity after actions"), coerce=int, required=False, empty_value=None
    )
    post_occurrence = forms.TypedChoiceField(
        label=_("Occurrence after actions"), coerce=int, required=False, empty_value=None
    )
    post_detection = forms.TypedChoiceField(
        label=_("Detection after actions"), coerce=int, required=False, empty_value=None
    )
    indicator_name = forms.CharField(
        label=_("Key risk indicator"),
        required=False,
        max_length=120,
        help_text=_("A number you watch, such as a raw-material price."),
    )
    indicator_unit = forms.CharField(label=_("Unit"), required=False, max_length=20)
    indicator_amber = forms.DecimalField(
        label=_("Amber threshold"), required=False, max_digits=18, decimal_places=4
    )
    indicator_red = forms.DecimalField(
        label=_("Red threshold"), required=False, max_digits=18, decimal_places=4
    )
    indicator_direction = forms.ChoiceField(
        label=_("Direction"), choices=Direction.choices, initial=Direction.UP
    )

    FMEA = ("severity", "occurrence", "detection")

    def __init__(
        self, *args: Any, org: Organization, settings: RiskSettings, **kwargs: Any
    ) -> None:
        super().__init__(*args, org=org, **kwargs)
        _people(self.fields["owner"], org)
        self._set_choices("subject", subject_choices(org))
        self._set_choices("category", [("", "—"), *settings.category_choices()])
        self._set_choices("probability", _scale(settings.probability_words, 5))
        self._set_choices("impact", _scale(settings.impact_words, 5))
        self._set_choices("residual_probability", _optional_scale(settings.probability_words, 5))
        self._set_choices("residual_impact", _optional_scale(settings.impact_words, 5))
        words = selectors.fmea_words()
        for name in self.FMEA:
            self._set_choices(name, _optional_scale(words[name], 10))
            self._set_choices(f"post_{name}", _optional_scale(words[name], 10))

    def _set_choices(self, name: str, choices: list[Any]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices

    def clean_subject(self) -> tuple[str, uuid.UUID]:
        value = self.cleaned_data["subject"]
        key, _sep, raw = str(value).partition(":")
        try:
            return key, uuid.UUID(raw)
        except ValueError:
            raise forms.ValidationError(gettext("Choose what the risk is about.")) from None

    def data_for_service(self) -> dict[str, Any]:
        d = dict(self.cleaned_data)
        key, pk = d.pop("subject")
        d.pop("reason", None)
        return {"subject_type": key, "subject_id": pk, **d}


def initial_of(risk: Any) -> dict[str, Any]:
    fields = [name for name in RiskForm.base_fields if name not in ("subject", "reason")]
    initial = {name: getattr(risk, name) for name in fields if name != "owner"}
    initial["owner"] = risk.owner_id
    initial["subject"] = f"{risk.subject_type}:{risk.subject_id}"
    return initial


class IndicatorValueForm(OrgFormMixin, forms.Form):
    value = forms.DecimalField(label=_("Value"), max_digits=18, decimal_places=4)
    observed_at = forms.DateTimeField(label=_("Observed at"), required=False)


class TransitionForm(OrgFormMixin, forms.Form):
    action = forms.ChoiceField(
        choices=[
            ("occur", _("It occurred")),
            ("close", _("Close")),
            ("reopen", _("Reopen")),
            ("escalate", _("Escalate")),
        ]
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=500)


class RiskFilterForm(OrgFormMixin, forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    side = forms.ChoiceField(
        label=_("Side"), required=False, choices=[("", _("Both sides")), *Side.choices]
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Open")), *[(v, lbl) for v, lbl in RiskStatus.choices], ("all", _("All"))],
    )
    level = forms.ChoiceField(
        label=_("Level"), required=False, choices=[("", _("Any level")), *Level.choices]
    )
    owner = PersonChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False)
    category = forms.ChoiceField(label=_("Category"), required=False)
    project = forms.ModelChoiceField(
        label=_("Project"), queryset=_until_scoped(Project), required=False
    )
    customer = forms.ModelChoiceField(
        label=_("Customer"), queryset=_until_scoped(Customer), required=False
    )
    p = forms.TypedChoiceField(
        label=_("Probability"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "—"), *[(n, str(n)) for n in range(1, 6)]],
    )
    i = forms.TypedChoiceField(
        label=_("Impact"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "—"), *[(n, str(n)) for n in range(1, 6)]],
    )
    residual = forms.BooleanField(label=_("Residual rating"), required=False)
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=SORTS)

    def __init__(self, *args: Any, org: Organization, settings: RiskSettings, **kwargs: Any):
        super().__init__(*args, org=org, **kwargs)
        _people(self.fields["owner"], org)
        category = self.fields["category"]
        assert isinstance(category, forms.ChoiceField)
        category.choices = [("", _("Any category")), *settings.category_choices()]
        project = self.fields["project"]
        assert isinstance(project, forms.ModelChoiceField)
        project.queryset = Project.objects.for_org(org).order_by("code")
        customer = self.fields["customer"]
        assert isinstance(customer, forms.ModelChoiceField)
        customer.queryset = Customer.objects.for_org(org).order_by("name")

    def filters(self, **fixed: Any) -> RiskFilters:
        if not self.is_bound or not self.is_valid():
            return RiskFilters(**fixed)
        d = self.cleaned_data
        values: dict[str, Any] = {
            "q": d.get("q") or "",
            "side": d.get("side") or "",
            "status": d.get("status") or RiskStatus.OPEN,
            "level": d.get("level") or "",
            "owner": d.get("owner"),
            "category": d.get("category") or "",
            "project": d.get("project"),
            "customer": d.get("customer"),
            "probability": d.get("p"),
            "impact": d.get("i"),
            "residual": bool(d.get("residual")),
            "sort": d.get("sort") or "-score",
        }
        values.update(fixed)
        return RiskFilters(**values)


class MatrixForm(OrgFormMixin, forms.Form):
    """The organization's 5x5 matrix: one level per cell (``cell_<p>_<i>``)."""

    def __init__(self, *args: Any, org: Organization, settings: RiskSettings, **kwargs: Any):
        super().__init__(*args, org=org, **kwargs)
        for p in range(5, 0, -1):
            for i in range(1, 6):
                self.fields[f"cell_{p}_{i}"] = forms.ChoiceField(
                    label=gettext("Probability %(p)d, impact %(i)d") % {"p": p, "i": i},
                    choices=Level.choices,
                    initial=settings.matrix.level(p, i),
                )
        for n in range(1, 6):
            self.fields[f"probability_{n}"] = forms.CharField(
                label=gettext("Probability %(n)d") % {"n": n},
                max_length=60,
                initial=gettext(settings.probability_words[n]),
            )
            self.fields[f"impact_{n}"] = forms.CharField(
                label=gettext("Impact %(n)d") % {"n": n},
                max_length=60,
                initial=gettext(settings.impact_words[n]),
            )
        self.fields["categories"] = forms.CharField(
            label=_("Categories"),
            widget=forms.Textarea(attrs={"rows": 8}),
            help_text=_("One per line."),
            initial="\n".join(gettext(name) for _key, name in settings.categories),
        )

    def grid(self) -> list[list[str]]:
        return [[self.cleaned_data[f"cell_{p}_{i}"] for i in range(1, 6)] for p in range(1, 6)]
