"""Forms of project control pages: baselines, budget lines, costs, reserves, change requests.
Model choices are scoped to the organization (``OrgFormMixin``) and to the project."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.inputs import InputRulesFormMixin
from accounts.mixins import OrgFormMixin
from accounts.models import Organization, User
from accounts.roles import Role
from projects import control, selectors
from projects.models import Project, WorkItem
from projects.web.forms import WorkItemChoiceField


class _ProjectForm(OrgFormMixin, forms.Form):
    item_fields: tuple[str, ...] = ()

    def __init__(self, *args: Any, org: Organization, project: Project, **kwargs: Any) -> None:
        super().__init__(*args, org=org, **kwargs)
        items = WorkItem.objects.for_org(org).filter(project=project).order_by("wbs_path")
        for name in self.item_fields:
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = items.filter(is_summary=False) if name == "work_item" else items
        if "category" in self.fields:
            category = self.fields["category"]
            assert isinstance(category, forms.ChoiceField)
            category.choices = control.categories(org)


class BaselineForm(InputRulesFormMixin, forms.Form):
    name = forms.CharField(label=_("Baseline name"), max_length=200)


class BudgetLineForm(_ProjectForm):
    item_fields = ("work_item",)
    category = forms.ChoiceField(label=_("Category"))
    work_item = WorkItemChoiceField(
        label=_("Work package"), queryset=WorkItem.objects.none(), required=False
    )
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    amount = forms.DecimalField(
        label=_("Amount"), min_value=Decimal(0), max_digits=16, decimal_places=2
    )


class CostEntryForm(_ProjectForm):
    item_fields = ("work_item",)
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    category = forms.ChoiceField(label=_("Category"))
    work_item = WorkItemChoiceField(
        label=_("Work item"), queryset=WorkItem.objects.none(), required=False
    )
    amount = forms.DecimalField(label=_("Amount"), max_digits=16, decimal_places=2)
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class LabourForm(_ProjectForm):
    """Logged effort, priced at the person's (or their role's) hourly rate."""

    item_fields = ("work_item",)
    person = forms.ModelChoiceField(label=_("Person"), queryset=User.objects.none())
    hours = forms.DecimalField(
        label=_("Hours"), min_value=Decimal("0.01"), max_digits=8, decimal_places=2
    )
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    work_item = WorkItemChoiceField(
        label=_("Work item"), queryset=WorkItem.objects.none(), required=False
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args: Any, org: Organization, project: Project, **kwargs: Any) -> None:
        super().__init__(*args, org=org, project=project, **kwargs)
        person = self.fields["person"]
        assert isinstance(person, forms.ModelChoiceField)
        person.queryset = selectors.org_people(org)


class RateForm(OrgFormMixin, forms.Form):
    person = forms.ModelChoiceField(label=_("Person"), queryset=User.objects.none(), required=False)
    role = forms.ChoiceField(
        label=_("or everyone of the role"),
        choices=[("", "—"), *Role.choices],
        required=False,
    )
    rate = forms.DecimalField(
        label=_("Hourly rate"), min_value=Decimal(0), max_digits=12, decimal_places=2
    )

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        super().__init__(*args, org=org, **kwargs)
        person = self.fields["person"]
        assert isinstance(person, forms.ModelChoiceField)
        person.queryset = selectors.org_people(org)


class CostImportForm(InputRulesFormMixin, forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "Columns: date, category, amount, and optionally work_item (WBS code or external "
            "id) and note. All rows are checked first; one bad row and nothing is imported."
        ),
    )


class DrawForm(InputRulesFormMixin, forms.Form):
    amount = forms.DecimalField(
        label=_("Amount"), min_value=Decimal("0.01"), max_digits=16, decimal_places=2
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class ChangeRequestForm(_ProjectForm):
    """A change request with the most common changes; the API takes every kind."""

    item_fields = ("work_item", "predecessor")
    title = forms.CharField(label=_("Title"), max_length=200)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))
    work_item = WorkItemChoiceField(
        label=_("Work package to change"), queryset=WorkItem.objects.none(), required=False
    )
    duration_days = forms.IntegerField(
        label=_("New duration (working days)"), min_value=0, max_value=10_000, required=False
    )
    budget = forms.DecimalField(
        label=_("New budget"), min_value=Decimal(0), required=False, max_digits=16, decimal_places=2
    )
    add_name = forms.CharField(label=_("New work item"), max_length=300, required=False)
    add_days = forms.IntegerField(
        label=_("Its duration (working days)"), min_value=0, max_value=10_000, required=False
    )
    add_budget = forms.DecimalField(
        label=_("Its budget"), min_value=Decimal(0), required=False, max_digits=16, decimal_places=2
    )
    predecessor = WorkItemChoiceField(
        label=_("After (predecessor)"), queryset=WorkItem.objects.none(), required=False
    )
    reserve_amount = forms.DecimalField(
        label=_("From the management reserve to the budget"),
        min_value=Decimal("0.01"),
        required=False,
        max_digits=16,
        decimal_places=2,
    )
    hold = forms.BooleanField(label=_("Put the project on hold"), required=False)

    def changes(self) -> list[dict[str, Any]]:
        data = self.cleaned_data
        out: list[dict[str, Any]] = []
        item = data.get("work_item")
        if item is not None and data.get("duration_days") is not None:
            out.append(
                {
                    "kind": "duration",
                    "work_item": str(item.pk),
                    "duration_days": data["duration_days"],
                }
            )
        if item is not None and data.get("budget") is not None:
            out.append({"kind": "budget", "work_item": str(item.pk), "budget": str(data["budget"])})
        if data.get("add_name"):
            change: dict[str, Any] = {
                "kind": "add_item",
                "name": data["add_name"],
                "duration_days": data.get("add_days") if data.get("add_days") is not None else 1,
                "budget": str(data.get("add_budget") or 0),
            }
            if data.get("predecessor") is not None:
                change["predecessor"] = str(data["predecessor"].pk)
            out.append(change)
        if data.get("reserve_amount"):
            out.append(
                {
                    "kind": "reserve_transfer",
                    "from": "management",
                    "to": "budget",
                    "amount": str(data["reserve_amount"]),
                }
            )
        if data.get("hold"):
            out.append({"kind": "project_status", "status": "on_hold"})
        return out

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if (cleaned.get("duration_days") is not None or cleaned.get("budget") is not None) and (
            cleaned.get("work_item") is None
        ):
            self.add_error("work_item", _("Say which work package changes."))
        return cleaned


class DecisionNoteForm(InputRulesFormMixin, forms.Form):
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
