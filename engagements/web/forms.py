from __future__ import annotations

from typing import Any

from django import forms
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.choices import CallableChoiceIterator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.inputs import InputRulesFormMixin
from accounts.mixins import OrgFormMixin
from accounts.models import Organization, User
from engagements import followups, selectors
from engagements.calc.health import SIGNALS, HealthSettings
from engagements.health_words import SIGNAL_LABELS
from engagements.models import Contact, Customer, Engagement, ImportJob, Kpi, Touchpoint
from followup.engine.models import FollowUp

QUICK_LOG_CHOICES = 50


def _until_scoped(model: type[models.Model]) -> models.QuerySet:
    # OrgFormMixin narrows every model choice to the organization; until then, no rows.
    return model.objects.dangerously_unscoped().none()


class FollowUpChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: FollowUp) -> str:
        due = timezone.localtime(obj.due_at).strftime("%Y-%m-%d %H:%M")
        return f"{obj.title} · {due}"


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.name


class CustomerForm(OrgFormMixin, forms.ModelForm):
    owner = PersonChoiceField(
        queryset=User.objects.none(),
        required=False,
        label=pgettext_lazy("person responsible", "Owner"),
    )

    class Meta:
        model = Customer
        fields = [
            "name",
            "status",
            "tier",
            "industry",
            "owner",
            "annual_value",
            "currency",
            "external_id",
            "notes",
        ]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        super().__init__(*args, org=org, **kwargs)
        self.fields["owner"].queryset = selectors.org_people(org)

    def validate_unique(self) -> None:
        # The service validates with the organization set; the form's instance has none yet.
        pass


class ContactForm(OrgFormMixin, forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["name", "title", "email", "phone", "language", "is_primary", "external_id"]

    def validate_unique(self) -> None:
        pass


class EngagementForm(OrgFormMixin, forms.ModelForm):
    owner = PersonChoiceField(
        queryset=User.objects.none(),
        required=False,
        label=pgettext_lazy("person responsible", "Owner"),
    )
    team = forms.ModelMultipleChoiceField(
        queryset=User.objects.none(),
        required=False,
        label=_("Team"),
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )

    class Meta:
        model = Engagement
        fields = [
            "name",
            "objective",
            "status",
            "owner",
            "team",
            "started_on",
            "cadence_days",
            "external_id",
        ]
        widgets = {
            "objective": forms.Textarea(attrs={"rows": 3}),
            "started_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        super().__init__(*args, org=org, **kwargs)
        people = selectors.org_people(org)
        self.fields["owner"].queryset = people
        self.fields["team"].queryset = people
        self.fields["team"].label_from_instance = lambda user: user.name

    def validate_unique(self) -> None:
        pass


class KpiForm(OrgFormMixin, forms.ModelForm):
    class Meta:
        model = Kpi
        fields = ["name", "metric", "target", "unit", "manual_value"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("metric") == Kpi.Metric.MANUAL and cleaned.get("manual_value") is None:
            self.add_error("manual_value", _("Enter the current value of a KPI kept by hand."))
        return cleaned


class TouchpointForm(OrgFormMixin, forms.ModelForm):
    """Correct a logged touchpoint (its customer stays; log a new one for another)."""

    class Meta:
        model = Touchpoint
        fields = [
            "channel",
            "occurred_at",
            "engagement",
            "summary",
            "outcome",
            "sentiment",
            "satisfaction",
            "business_event",
            "effort_minutes",
            "next_step",
            "contacts",
        ]
        widgets = {
            "occurred_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
            "summary": forms.Textarea(attrs={"rows": 3}),
            "outcome": forms.Textarea(attrs={"rows": 2}),
            "contacts": forms.CheckboxSelectMultiple,
        }
        help_texts = {"occurred_at": _("In your time zone.")}

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        super().__init__(*args, org=org, **kwargs)
        customer_id = self.instance.customer_id
        self.fields["engagement"].queryset = Engagement.objects.for_org(org).filter(
            customer_id=customer_id
        )
        self.fields["contacts"].queryset = Contact.objects.for_org(org).filter(
            customer_id=customer_id
        )

    def validate_unique(self) -> None:
        pass  # the service checks external ids with a clear message


class _ChosenCustomerField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """The customer the form already loaded (``QuickLogForm._chosen_customer``, from the
    same organization's rows) is not looked up a second time to validate it."""

    chosen: Customer | None = None

    def to_python(self, value: Any) -> Any:
        chosen = self.chosen
        if chosen is not None and value not in self.empty_values and str(value) == str(chosen.pk):
            return chosen
        return super().to_python(value)


class QuickLogForm(OrgFormMixin, forms.Form):
    """Customer, channel and summary are all a rep must give; the rest is optional."""

    customer = _ChosenCustomerField(queryset=_until_scoped(Customer), label=_("Customer"))
    channel = forms.ChoiceField(
        choices=Touchpoint.Channel.choices,
        label=_("Channel"),
        initial=Touchpoint.Channel.CALL,
        widget=forms.RadioSelect,
    )
    summary = forms.CharField(
        label=_("Summary"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )
    engagement = forms.ModelChoiceField(
        queryset=_until_scoped(Engagement),
        required=False,
        label=_("Engagement"),
        empty_label=_("Picked for you if there is only one"),
    )
    occurred_at = forms.DateTimeField(
        label=_("When"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("In your time zone. Empty means now."),
    )
    sentiment = forms.TypedChoiceField(
        label=_("Sentiment"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[
            ("", _("Not rated")),
            ("2", _("+2 very positive")),
            ("1", _("+1 positive")),
            ("0", _("0 neutral")),
            ("-1", _("-1 negative")),
            ("-2", _("-2 very negative")),
        ],
    )
    satisfaction = forms.TypedChoiceField(
        label=_("Satisfaction (survey)"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("No score")), *[(str(n), f"{n} / 5") for n in range(5, 0, -1)]],
    )
    business_event = forms.ChoiceField(
        label=_("Business event"),
        required=False,
        choices=[("", _("None")), *Touchpoint.BusinessEvent.choices],
        help_text=_("The customer cancelled an order, or an order was lost."),
    )
    effort_minutes = forms.IntegerField(
        label=_("Effort (minutes)"), required=False, min_value=0, max_value=24 * 60
    )
    outcome = forms.CharField(
        label=_("Outcome"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    next_step = forms.CharField(label=_("Next step"), required=False, max_length=2000)
    contacts = forms.ModelMultipleChoiceField(
        queryset=_until_scoped(Contact),
        required=False,
        label=_("Contacts involved"),
        widget=forms.CheckboxSelectMultiple,
    )
    followup = FollowUpChoiceField(
        queryset=_until_scoped(FollowUp),
        required=False,
        label=_("Completes follow-up"),
        empty_label=_("None"),
        help_text=_("The follow-up this touchpoint answers is marked done."),
    )

    def __init__(
        self, *args: Any, org: Organization, user: User, search: str = "", **kwargs: Any
    ) -> None:
        super().__init__(*args, org=org, **kwargs)
        customer = self._chosen_customer()
        self.chosen_customer = customer
        self.fields["customer"].chosen = customer  # type: ignore[attr-defined]
        # Validation accepts any customer of the organization; the select only offers a
        # short list (the rep's own and recently touched, or a search), so that a list of
        # 10,000 customers never reaches a phone.
        # Only a rendered form needs them: a post that validates and saves never reads them.
        self.fields["customer"].widget.choices = CallableChoiceIterator(
            lambda: self._offered(org, user, search, customer)
        )
        if customer is not None:
            self.fields["engagement"].queryset = Engagement.objects.for_org(org).filter(
                customer=customer, status=Engagement.Status.ACTIVE
            )
            self.fields["contacts"].queryset = Contact.objects.for_org(org).filter(
                customer=customer
            )
            # Only this customer's open follow-ups can be answered (anything else posted is
            # "not one of the available choices"); the field shows when there are some.
            self.fields["followup"].queryset = followups.for_customer(org, customer)
        else:
            # Engagements are offered once a customer is chosen (the form reloads then);
            # listing every engagement of a large organization would not fit a phone.
            self.fields["engagement"].queryset = Engagement.objects.for_org(org).filter(
                status=Engagement.Status.ACTIVE
            )
            self.fields["engagement"].widget.choices = [("", _("Choose a customer first"))]
            del self.fields["contacts"]
            del self.fields["followup"]

    @staticmethod
    def _offered(
        org: Organization, user: User, search: str, customer: Customer | None
    ) -> list[tuple[Any, Any]]:
        offered = selectors.customers(org)
        if search:
            offered = offered.filter(Q(name__icontains=search) | Q(external_id=search))
        else:
            recent = (
                Touchpoint.objects.for_org(org)
                .filter(logged_by=user)
                .order_by("-created_at")
                .values_list("customer_id", flat=True)[:200]
            )
            offered = offered.filter(Q(owner=user) | Q(pk__in=recent))
        choices = list(offered.order_by("name").values_list("pk", "name")[:QUICK_LOG_CHOICES])
        if not choices and not search:
            choices = list(
                selectors.customers(org)
                .order_by("name")
                .values_list("pk", "name")[:QUICK_LOG_CHOICES]
            )
        if customer is not None and customer.pk not in {pk for pk, _n in choices}:
            choices.insert(0, (customer.pk, customer.name))
        return [("", _("Choose a customer")), *choices]

    @property
    def offers_followups(self) -> bool:
        field = self.fields.get("followup")
        return field is not None and (field.queryset.exists() or bool(self["followup"].errors))

    def _chosen_customer(self) -> Customer | None:
        raw = self.data.get("customer") if self.is_bound else self.initial.get("customer")
        if isinstance(raw, Customer):
            return raw
        if not raw:
            return None
        try:
            return selectors.customers(self.org).filter(pk=raw).first()
        except (ValueError, TypeError, forms.ValidationError):
            return None


class CustomerFilterForm(OrgFormMixin, forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    owner = PersonChoiceField(
        queryset=User.objects.none(),
        required=False,
        label=pgettext_lazy("person responsible", "Owner"),
        empty_label=_("Anyone"),
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any")), *Customer.Status.choices]
    )
    tier = forms.ChoiceField(
        label=_("Tier"), required=False, choices=[("", _("Any")), *Customer.Tier.choices]
    )
    health = forms.ChoiceField(
        label=_("Health"),
        required=False,
        choices=[
            ("", _("Any")),
            ("red", _("Red")),
            ("amber", _("Amber")),
            ("green", _("Green")),
            (selectors.HEALTH_NONE, _("No active engagement")),
        ],
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("name", _("Name")),
            ("health", _("Health, worst first")),
            ("last_touch", _("Last touch, oldest first")),
            ("-last_touch", _("Last touch, newest first")),
            ("-value", _("Annual value, highest first")),
            # What the column headers sort by, in both directions.
            ("-name", _("Name, Z to A")),
            ("-health", _("Health, best first")),
            ("value", _("Annual value, lowest first")),
            ("status", _("Status, prospects first")),
            ("-status", _("Status, churned first")),
            ("tier", _("Tier, strategic first")),
            ("-tier", _("Tier, small first")),
            ("owner", _("Owner, A to Z")),
            ("-owner", _("Owner, Z to A")),
        ],
    )

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        super().__init__(*args, org=org, **kwargs)
        self.fields["owner"].queryset = selectors.org_people(org)

    def filters(self) -> selectors.CustomerFilters:
        if not self.is_valid():
            return selectors.CustomerFilters()
        d = self.cleaned_data
        return selectors.CustomerFilters(
            q=d["q"],
            owner=d["owner"],
            status=d["status"],
            tier=d["tier"],
            health=d["health"],
            sort=d["sort"] or "name",
        )


class ImportForm(InputRulesFormMixin, forms.Form):
    kind = forms.ChoiceField(
        label=_("What the file holds"),
        choices=[(k, v) for k, v in ImportJob.Kind.choices if k in ImportJob.CUSTOMER_SIDE],
    )
    file = forms.FileField(
        label=_("CSV file"), help_text=_("UTF-8, comma-separated, with a header row; up to 5 MB.")
    )


class HealthSettingsForm(InputRulesFormMixin, forms.Form):
    amber_below = forms.IntegerField(
        label=_("Amber below"),
        min_value=1,
        max_value=100,
        help_text=_("Score under which health is amber."),
    )
    red_below = forms.IntegerField(
        label=_("Red below"),
        min_value=1,
        max_value=99,
        help_text=_("Score under which health is red."),
    )
    recency_red_ratio = forms.FloatField(
        label=_("Silence that turns red"),
        min_value=1.5,
        max_value=10,
        help_text=_("Days without a touchpoint, as a multiple of the cadence, that make it red."),
    )
    window = forms.IntegerField(
        label=_("Touchpoints in the trend"),
        min_value=2,
        max_value=30,
        help_text=_("How many recent rated touchpoints the sentiment and satisfaction trends use."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for key in SIGNALS:
            self.fields[f"weight_{key}"] = forms.IntegerField(
                label=_("Weight: %(signal)s") % {"signal": SIGNAL_LABELS[key]},
                min_value=0,
                max_value=100,
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        if cleaned["red_below"] >= cleaned["amber_below"]:
            self.add_error("red_below", _("Red must start below amber."))
        if sum(cleaned[f"weight_{key}"] for key in SIGNALS) == 0:
            raise forms.ValidationError(_("At least one weight must be above zero."))
        return cleaned

    @staticmethod
    def initial_from(settings: HealthSettings) -> dict[str, Any]:
        return settings.as_dict()
