"""Forms of the risk register's pages (reviews part)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.inputs import InputRulesFormMixin


class SignOffForm(InputRulesFormMixin, forms.Form):
    note = forms.CharField(
        label=_("Review note"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What the review found, decided or left open."),
    )


class ReviewRateForm(InputRulesFormMixin, forms.Form):
    risk = forms.UUIDField(widget=forms.HiddenInput)
    probability = forms.IntegerField(label=_("Probability"), min_value=1, max_value=5)
    impact = forms.IntegerField(label=_("Impact"), min_value=1, max_value=5)


class ReviewPolicyForm(InputRulesFormMixin, forms.Form):
    lead_working_days = forms.IntegerField(
        label=_("Open reviews this many working days before each milestone"),
        required=False,
        min_value=0,
        max_value=60,
        help_text=_("Leave empty to use the organization's setting."),
    )
