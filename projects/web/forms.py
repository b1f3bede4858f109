"""Forms of project follow-up pages. Model choices are scoped to the organization
(``OrgFormMixin``) and, where they name a project's rows, to that project."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.inputs import InputRulesFormMixin
from accounts.mixins import OrgFormMixin
from accounts.models import Organization, User
from engagements.models import Customer, Engagement
from projects import gates, selectors
from projects.models import (
    AttestRole,
    Decision,
    Dependency,
    Phase,
    PhaseTemplate,
    Project,
    ProjectStatus,
    WorkItem,
)

WEEKDAYS = [
    (1, _("Monday")),
    (2, _("Tuesday")),
    (3, _("Wednesday")),
    (4, _("Thursday")),
    (5, _("Friday")),
    (6, _("Saturday")),
    (7, _("Sunday")),
]
SORTS = [
    ("code", _("Code")),
    ("name", _("Name")),
    ("start", _("Start date")),
    ("target", _("Target finish")),
    ("finish", _("Scheduled finish")),
    ("-slip", _("Most late first")),
]
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _until_scoped(model: type[Any]) -> Any:
    # OrgFormMixin (and __init__) narrow every model choice to the organization; until
    # then, no rows.
    return model.objects.dangerously_unscoped().none()


class PersonChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: User) -> str:
        return obj.name


class EngagementChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Engagement) -> str:
        return f"{obj.customer.name} · {obj.name}"


class PhaseChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Phase) -> str:
        return selectors.display(obj.name)


class WorkItemChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: WorkItem) -> str:
        return f"{obj.wbs_code} {obj.name}"


def _people(field: forms.Field, org: Organization) -> None:
    if isinstance(field, forms.ModelChoiceField):
        field.queryset = selectors.org_people(org)


def _holidays_text(holidays: list[str]) -> str:
    return "\n".join(holidays)


class ProjectFilterForm(OrgFormMixin, forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[
            ("", _("Open (not closed or cancelled)")),
            *ProjectStatus.choices,
            (selectors.ARCHIVED, _("Archive (closed and cancelled)")),
        ],
    )
    manager = PersonChoiceField(
        label=_("Project manager"), queryset=User.objects.none(), required=False
    )
    customer = forms.ModelChoiceField(
        label=_("Customer"), queryset=_until_scoped(Customer), required=False
    )
    phase = forms.ChoiceField(label=_("Phase"), required=False)
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=SORTS)

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        super().__init__(*args, org=org, **kwargs)
        _people(self.fields["manager"], org)
        customer = self.fields["customer"]
        assert isinstance(customer, forms.ModelChoiceField)
        customer.queryset = (
            Customer.objects.for_org(org)
            .filter(engagements__projects__isnull=False)
            .distinct()
            .order_by("name")
        )
        phase = self.fields["phase"]
        assert isinstance(phase, forms.ChoiceField)
        phase.choices = [("", _("Any phase")), *selectors.phase_keys(org)]

    def filters(self) -> selectors.ProjectFilters:
        if not self.is_bound or not self.is_valid():
            return selectors.ProjectFilters()
        d = self.cleaned_data
        return selectors.ProjectFilters(
            q=d.get("q") or "",
            status=d.get("status") or "",
            manager=d.get("manager"),
            customer=d.get("customer"),
            phase=d.get("phase") or "",
            sort=d.get("sort") or "code",
        )


class CalendarFieldsMixin(InputRulesFormMixin, forms.Form):
    working_days = forms.TypedMultipleChoiceField(
        label=_("Working days"),
        choices=WEEKDAYS,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )
    holidays = forms.CharField(
        label=_("Holidays"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One date per line, such as 2027-05-01."),
    )

    def clean_holidays(self) -> list[str]:
        days: list[str] = []
        for number, line in enumerate(str(self.cleaned_data.get("holidays") or "").splitlines(), 1):
            line = line.strip()
            if not line:
                continue
            try:
                days.append(date.fromisoformat(line).isoformat())
            except ValueError:
                raise forms.ValidationError(
                    _("Line %(line)d is not a date such as 2027-05-01."), params={"line": number}
                ) from None
        return sorted(set(days))

    def calendar(self) -> dict[str, Any]:
        return {
            "working_days": self.cleaned_data["working_days"],
            "holidays": self.cleaned_data["holidays"],
        }


class ProjectForm(OrgFormMixin, CalendarFieldsMixin):
    code = forms.CharField(
        label=_("Code"), max_length=40, help_text=_("Short and unique, such as PL-2027.")
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    objective = forms.CharField(
        label=_("Objective"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    success_criteria = forms.CharField(
        label=_("Success criteria"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line; each is marked met or not met at closing."),
    )
    engagement = EngagementChoiceField(
        label=_("Engagement (customer)"),
        queryset=_until_scoped(Engagement),
        required=False,
        help_text=_("The business relationship this project serves, if any."),
    )
    manager = PersonChoiceField(
        label=_("Project manager"), queryset=User.objects.none(), required=False
    )
    sponsor = forms.ModelChoiceField(
        label=_("Sponsor"), queryset=User.objects.none(), required=False
    )
    start_date = forms.DateField(label=_("Start date"), widget=DATE)
    target_finish_date = forms.DateField(label=_("Target finish date"), widget=DATE, required=False)
    currency = forms.CharField(label=_("Currency"), max_length=3, initial="EUR")
    template = forms.ModelChoiceField(
        label=_("Phase template"), queryset=_until_scoped(PhaseTemplate), empty_label=None
    )

    field_order = [
        "code",
        "name",
        "objective",
        "success_criteria",
        "engagement",
        "manager",
        "sponsor",
        "template",
        "start_date",
        "target_finish_date",
        "working_days",
        "holidays",
        "currency",
    ]

    def __init__(self, *args: Any, org: Organization, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, org=org, **kwargs)
        _people(self.fields["manager"], org)
        _people(self.fields["sponsor"], org)
        engagement = self.fields["engagement"]
        assert isinstance(engagement, forms.ModelChoiceField)
        engagement.queryset = (
            Engagement.objects.for_org(org).select_related("customer").order_by("customer__name")
        )
        if editing:
            del self.fields["template"]
        else:
            template = self.fields["template"]
            assert isinstance(template, forms.ModelChoiceField)
            template.queryset = PhaseTemplate.objects.for_org(org).order_by("-is_default", "name")

    @staticmethod
    def initial_for(project: Project) -> dict[str, Any]:
        calendar = project.calendar or {}
        return {
            "code": project.code,
            "name": project.name,
            "objective": project.objective,
            "success_criteria": "\n".join(project.criteria_texts),
            "engagement": project.engagement_id,
            "manager": project.manager_id,
            "sponsor": project.sponsor_id,
            "start_date": project.start_date,
            "target_finish_date": project.target_finish_date,
            "currency": project.currency,
            "working_days": calendar.get("working_days", [1, 2, 3, 4, 5]),
            "holidays": _holidays_text(calendar.get("holidays", [])),
        }

    def clean_currency(self) -> str:
        return str(self.cleaned_data["currency"]).strip().upper()

    def data_for_service(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "code": d["code"],
            "name": d["name"],
            "objective": d["objective"],
            "success_criteria": [
                line.strip() for line in (d["success_criteria"] or "").splitlines() if line.strip()
            ],
            "engagement": d["engagement"],
            "manager": d["manager"],
            "sponsor": d["sponsor"],
            "start_date": d["start_date"],
            "target_finish_date": d["target_finish_date"],
            "currency": d["currency"],
            "calendar": self.calendar(),
        }


class CalendarForm(CalendarFieldsMixin):
    apply_to_open = forms.BooleanField(
        label=_("Also apply it to open projects that use the current default"),
        required=False,
    )


class DecisionForm(InputRulesFormMixin, forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            (Decision.GO, pgettext_lazy("gate decision", "Go: enter the next phase")),
            (Decision.HOLD, pgettext_lazy("gate decision", "Hold: put the project on hold")),
            (
                Decision.RECYCLE,
                pgettext_lazy("gate decision", "Recycle: back to the previous phase"),
            ),
            (Decision.KILL, pgettext_lazy("gate decision", "Kill: cancel the project")),
        ],
        widget=forms.RadioSelect,
        initial=Decision.GO,
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    override = forms.BooleanField(label=_("Override unmet criteria (admins)"), required=False)
    override_reason = forms.CharField(
        label=_("Reason for the override"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, can_override: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not can_override:
            del self.fields["override"]
            del self.fields["override_reason"]


class AttestForm(InputRulesFormMixin, forms.Form):
    evidence_note = forms.CharField(
        label=_("Evidence"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    evidence_url = forms.URLField(label=_("Evidence link"), required=False, assume_scheme="https")


class WorkItemForm(OrgFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=300)
    duration_days = forms.IntegerField(
        label=_("Duration (working days)"),
        min_value=0,
        max_value=10_000,
        help_text=_("0 makes it a milestone."),
    )
    assignee = PersonChoiceField(label=_("Assignee"), queryset=User.objects.none(), required=False)
    percent_complete = forms.DecimalField(
        label=_("Progress (%)"), min_value=0, max_value=100, decimal_places=2
    )
    phase = PhaseChoiceField(label=_("Phase"), queryset=_until_scoped(Phase), required=False)
    effort_hours = forms.DecimalField(
        label=_("Effort (hours)"), min_value=0, decimal_places=2, required=False
    )
    budget = forms.DecimalField(label=_("Budget"), min_value=0, decimal_places=2, required=False)
    start_no_earlier_than = forms.DateField(
        label=_("Start no earlier than"), widget=DATE, required=False
    )
    actual_start = forms.DateField(label=_("Actual start"), widget=DATE, required=False)
    actual_finish = forms.DateField(label=_("Actual finish"), widget=DATE, required=False)

    SUMMARY_FIELDS = ("duration_days", "percent_complete", "effort_hours", "budget")
    ROW_FIELDS = ("name", "duration_days", "assignee", "percent_complete")

    def __init__(
        self,
        *args: Any,
        org: Organization,
        project: Project,
        summary: bool = False,
        row: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, org=org, **kwargs)
        _people(self.fields["assignee"], org)
        phase = self.fields["phase"]
        assert isinstance(phase, forms.ModelChoiceField)
        phase.queryset = Phase.objects.for_org(org).filter(project=project).order_by("position")
        if summary:
            for name in (*self.SUMMARY_FIELDS, "actual_start", "actual_finish"):
                self.fields.pop(name, None)
        if row:
            for name in list(self.fields):
                if name not in self.ROW_FIELDS:
                    del self.fields[name]

    @staticmethod
    def initial_for(item: WorkItem) -> dict[str, Any]:
        return {
            "name": item.name,
            "duration_days": item.duration_days,
            "assignee": item.assignee_id,
            "percent_complete": item.percent_complete,
            "phase": item.phase_id,
            "effort_hours": item.effort_hours,
            "budget": item.budget,
            "start_no_earlier_than": item.start_no_earlier_than,
            "actual_start": item.actual_start,
            "actual_finish": item.actual_finish,
        }


class AddItemForm(InputRulesFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=300)
    duration_days = forms.IntegerField(
        label=_("Duration (working days)"), min_value=0, max_value=10_000, initial=1
    )


class PasteForm(OrgFormMixin, forms.Form):
    outline = forms.CharField(
        label=_("Outline"),
        widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false"}),
        help_text=_(
            "One work item per line; indent a line (spaces or tabs) to put it under the line "
            "above, or number the lines (1, 1.1, 1.2). End a line with “| 3d” for a duration "
            "of 3 working days, “| 0d” for a milestone."
        ),
    )
    phase = PhaseChoiceField(label=_("Phase"), queryset=_until_scoped(Phase), required=False)

    def __init__(self, *args: Any, org: Organization, project: Project, **kwargs: Any) -> None:
        super().__init__(*args, org=org, **kwargs)
        phase = self.fields["phase"]
        assert isinstance(phase, forms.ModelChoiceField)
        phase.queryset = Phase.objects.for_org(org).filter(project=project).order_by("position")
        phase.empty_label = str(_("The current phase"))
        self.fields["outline"].strip = False  # type: ignore[attr-defined]


class DependencyForm(OrgFormMixin, forms.Form):
    predecessor = WorkItemChoiceField(label=_("Predecessor"), queryset=_until_scoped(WorkItem))
    successor = WorkItemChoiceField(label=_("Successor"), queryset=_until_scoped(WorkItem))
    type = forms.ChoiceField(label=_("Type"), choices=Dependency.Type.choices, initial="FS")
    lag_days = forms.IntegerField(
        label=_("Lag (working days)"),
        initial=0,
        min_value=-10_000,
        max_value=10_000,
        help_text=_("Negative for a lead."),
    )

    def __init__(self, *args: Any, org: Organization, project: Project, **kwargs: Any) -> None:
        super().__init__(*args, org=org, **kwargs)
        items = WorkItem.objects.for_org(org).filter(project=project).order_by("wbs_path")
        for name in ("predecessor", "successor"):
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = items


class TemplateForm(InputRulesFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)


class TemplatePhaseForm(InputRulesFormMixin, forms.Form):
    name = forms.CharField(label=_("Phase name"), max_length=120)


class CriterionForm(InputRulesFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=())
    label = forms.CharField(
        label=_("Criterion"),
        max_length=200,
        required=False,
        help_text=_("For an attested criterion, say what is attested."),
    )
    role = forms.ChoiceField(
        label=_("Attested by"),
        required=False,
        choices=[("", "—"), *AttestRole.choices],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kind = self.fields["kind"]
        assert isinstance(kind, forms.ChoiceField)
        kind.choices = gates.choices()


__all__ = [
    "AddItemForm",
    "AttestForm",
    "CalendarForm",
    "CriterionForm",
    "DecisionForm",
    "DependencyForm",
    "PasteForm",
    "ProjectFilterForm",
    "ProjectForm",
    "TemplateForm",
    "TemplatePhaseForm",
    "WorkItemForm",
]
