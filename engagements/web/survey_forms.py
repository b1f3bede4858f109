"""Forms of satisfaction surveys."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from accounts.inputs import InputRulesFormMixin
from accounts.mixins import OrgFormMixin
from accounts.models import Organization
from engagements.models import Contact, Engagement
from engagements.web.forms import _until_scoped


class SurveySendForm(OrgFormMixin, forms.Form):
    engagement = forms.ModelChoiceField(
        queryset=_until_scoped(Engagement),
        required=False,
        label=_("Engagement"),
        empty_label=_("None"),
    )
    language = forms.ChoiceField(
        label=_("Language of the survey"),
        choices=settings.LANGUAGES,
        initial=settings.LANGUAGE_CODE,
    )

    def __init__(self, *args: Any, org: Organization, contact: Contact, **kwargs: Any) -> None:
        super().__init__(*args, org=org, **kwargs)
        field = self.fields["engagement"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Engagement.objects.for_org(org).filter(customer_id=contact.customer_id)
        # The contact's own language first (the organization's default when they have none).
        self.fields["language"].initial = contact.language or settings.LANGUAGE_CODE


class SurveyAnswerForm(InputRulesFormMixin, forms.Form):
    csat = forms.TypedChoiceField(
        label=_("How satisfied are you with our work for you?"),
        coerce=int,
        choices=[
            ("5", _("5 - very satisfied")),
            ("4", _("4 - satisfied")),
            ("3", _("3 - neither")),
            ("2", _("2 - dissatisfied")),
            ("1", _("1 - very dissatisfied")),
        ],
        widget=forms.RadioSelect,
    )
    nps = forms.TypedChoiceField(
        label=_("How likely are you to recommend us to a colleague (0-10)?"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("No answer")), *[(str(n), str(n)) for n in range(10, -1, -1)]],
    )
    comment = forms.CharField(
        label=_("Anything you would like to tell us?"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
