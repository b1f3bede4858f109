from __future__ import annotations

import zoneinfo
from datetime import time
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.inputs import InputRulesFormMixin
from accounts.mixins import OrgFormMixin
from followup.engine.calc import recurrence
from followup.engine.models import EmailMode, Priority
from followup.kernel import events

User = get_user_model()

REMINDER_CHOICES = [
    (0, _("At due time")),
    (15, _("15 minutes before")),
    (60, _("1 hour before")),
    (1440, _("1 day before")),
    (2880, _("2 days before")),
    (10080, _("1 week before")),
]
FREQUENCY_CHOICES = [
    ("", _("Does not repeat")),
    ("DAILY", _("Daily")),
    ("WEEKLY", _("Weekly")),
    ("MONTHLY", _("Monthly")),
    ("YEARLY", _("Yearly")),
]
WEEKDAY_CHOICES = [
    ("MO", _("Mon")),
    ("TU", _("Tue")),
    ("WE", _("Wed")),
    ("TH", _("Thu")),
    ("FR", _("Fri")),
    ("SA", _("Sat")),
    ("SU", _("Sun")),
]
ENDS_CHOICES = [("never", _("Never")), ("until", _("On a date")), ("count", _("After a number"))]
SNOOZE_LABELS = [
    ("1h", _("1 hour later")),
    ("3h", _("3 hours later")),
    ("tomorrow", _("1 day later, same time")),
    ("3d", _("3 days later")),
    ("1w", _("1 week later")),
]


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.name


class CadenceMixin(InputRulesFormMixin, forms.Form):
    """The common cadences in plain fields, turned into an RRULE subset."""

    frequency = forms.ChoiceField(label=_("Cadence"), choices=FREQUENCY_CHOICES, required=False)
    interval = forms.IntegerField(
        label=_("Every"), min_value=1, max_value=recurrence.MAX_INTERVAL, initial=1, required=False
    )
    weekdays = forms.MultipleChoiceField(
        label=_("On"), choices=WEEKDAY_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )
    monthday = forms.IntegerField(
        label=_("Day of month"),
        min_value=-1,
        max_value=31,
        required=False,
        help_text=_("1 to 31; -1 for the last day. Empty: the due date's day."),
    )
    at = forms.TimeField(
        label=_("At (local time)"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("Empty: the due time."),
    )
    ends = forms.ChoiceField(label=_("Ends"), choices=ENDS_CHOICES, initial="never")
    until = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    count = forms.IntegerField(
        label=_("Times"), min_value=1, max_value=recurrence.MAX_COUNT, required=False
    )

    # The saved rule, and the zone its fields were shown in. A rule can say more than these
    # fields show (WKST, a UTC UNTIL, BYDAY=1MO, several month days): when a save leaves
    # the fields as they were shown, the saved rule is kept whole instead of being
    # rebuilt from the fields, which would silently drop what they cannot show.
    rule_text = forms.CharField(required=False, widget=forms.HiddenInput)
    rule_zone = forms.CharField(required=False, widget=forms.HiddenInput)

    @staticmethod
    def shown(rule: recurrence.Rule, tz: str) -> dict[str, Any]:
        """What the cadence fields show of ``rule`` (``build_rule`` reads them back)."""
        instant = rule.until_instant
        until = rule.until
        if instant is not None:
            try:
                until = instant.astimezone(zoneinfo.ZoneInfo(tz)).date()
            except (zoneinfo.ZoneInfoNotFoundError, ValueError, OverflowError):
                until = instant.date()
        return {
            "frequency": rule.freq,
            "interval": rule.interval,
            "weekdays": [d for d in recurrence.WEEKDAYS if d in rule.byday]
            if rule.freq == "WEEKLY"
            else [],
            "monthday": rule.bymonthday[0]
            if rule.bymonthday and rule.freq in ("MONTHLY", "YEARLY")
            else None,
            "ends": "until" if rule.until else ("count" if rule.count else "never"),
            "until": until,
            "count": rule.count,
        }

    def cadence_initial(self, followup: Any) -> dict[str, Any]:
        if not followup.recurrence:
            return {}
        rule = recurrence.parse(followup.recurrence)
        tz = followup.owner.timezone or "UTC"
        return {
            **self.shown(rule, tz),
            "at": followup.recurrence_time,
            "rule_text": rule.to_text(),
            "rule_zone": tz,
        }

    def clean_monthday(self) -> int | None:
        value = self.cleaned_data.get("monthday")
        if value == 0:
            raise forms.ValidationError(_("Use 1 to 31, or -1 for the last day."))
        return value

    def build_rule(self) -> recurrence.Rule | None:
        data = self.cleaned_data
        freq = data.get("frequency")
        if not freq:
            return None
        ends = data.get("ends") or "never"
        try:
            built = recurrence.Rule(
                freq=freq,
                interval=data.get("interval") or 1,
                byday=tuple(d for d in recurrence.WEEKDAYS if d in (data.get("weekdays") or ()))
                if freq == "WEEKLY"
                else (),
                bymonthday=(data["monthday"],)
                if freq in ("MONTHLY", "YEARLY") and data.get("monthday")
                else (),
                until=data.get("until") if ends == "until" else None,
                count=data.get("count") if ends == "count" else None,
            )
        except recurrence.RuleError as exc:
            raise forms.ValidationError(str(exc)) from None
        saved = self._saved_rule()
        if saved is not None:
            zone = data.get("rule_zone") or "UTC"
            if self.shown(built, zone) == self.shown(saved, zone):
                return saved
        return built

    def _saved_rule(self) -> recurrence.Rule | None:
        text = self.cleaned_data.get("rule_text")
        if not text:
            return None
        try:
            return recurrence.parse(text)
        except recurrence.RuleError:
            return None  # not a rule we wrote: build from the fields

    def clean_cadence(self) -> None:
        ends = self.cleaned_data.get("ends")
        if self.cleaned_data.get("frequency"):
            if ends == "until" and not self.cleaned_data.get("until"):
                self.add_error("until", _("Choose the last date."))
            if ends == "count" and not self.cleaned_data.get("count"):
                self.add_error("count", _("Say how many times."))
        if not self.errors:
            try:
                self.cleaned_data["rule"] = self.build_rule()
            except forms.ValidationError as exc:
                self.add_error("frequency", exc)


class CadenceForm(OrgFormMixin, CadenceMixin):
    """Only the cadence fields: the live preview of the next five dates (read in the zone of
    the owner chosen in the form, as the save reads them)."""

    due = forms.DateTimeField(required=False)
    owner = UserChoiceField(queryset=User.objects.none(), required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        self.clean_cadence()
        return cleaned


class FollowUpForm(OrgFormMixin, CadenceMixin):
    title = forms.CharField(label=_("What needs doing"), max_length=200)
    owner = UserChoiceField(label=pgettext_lazy("follow-up", "Owner"), queryset=User.objects.none())
    due = forms.DateTimeField(
        label=_("Due"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"), choices=Priority.choices, coerce=int, initial=Priority.NORMAL
    )
    reminders = forms.TypedMultipleChoiceField(
        label=_("Remind me"),
        choices=REMINDER_CHOICES,
        coerce=int,
        required=False,
        initial=[0],
        widget=forms.CheckboxSelectMultiple,
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    subject_type = forms.CharField(required=False, widget=forms.HiddenInput)
    subject_id = forms.CharField(required=False, widget=forms.HiddenInput)
    # What the follow-up is about, chosen from this organization's customers, engagements,
    # projects... ("type:id"); the hidden pair above, when sent, names it instead.
    about = forms.ChoiceField(label=_("About"), required=False)
    # The version the editor loaded: saving over a newer change is refused, not silent.
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    field_order = ["title", "about", "owner", "due", "priority", "reminders", "notes"]

    def __init__(
        self, *args: Any, org: Any, chosen: Any = None, pick_subject: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, org=org, **kwargs)
        self.fields["owner"].queryset = self.fields["owner"].queryset.order_by(
            "display_name", "email"
        )
        about = self.fields["about"]
        if pick_subject and isinstance(about, forms.ChoiceField):
            about.choices = subject_choices(org, chosen)
        else:
            del self.fields["about"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        self.clean_cadence()
        key, obj_id = cleaned.get("subject_type"), cleaned.get("subject_id")
        about = self.cleaned_data.get("about")
        if not (key or obj_id) and about:
            key, _sep, obj_id = str(about).partition(":")
        cleaned["subject"] = None
        if key or obj_id:
            from django.core.exceptions import ValidationError

            from followup.kernel import subjects

            try:
                cleaned["subject"] = subjects.resolve(self.org, key or "", obj_id)
            except ValidationError:
                self.add_error(None, _("The follow-up's subject is not in this organization."))
        return cleaned

    def recurrence_time(self) -> time | None:
        return self.cleaned_data.get("at")


class SnoozeForm(InputRulesFormMixin, forms.Form):
    until = forms.ChoiceField(label=_("Postpone by"), choices=SNOOZE_LABELS)


class ReassignForm(OrgFormMixin, forms.Form):
    owner = UserChoiceField(label=_("New owner"), queryset=User.objects.none())


class WebhookForm(InputRulesFormMixin, forms.Form):
    url = forms.URLField(
        label=_("Endpoint URL"),
        max_length=500,
        assume_scheme="https",
        help_text=_("Your receiver's address (http or https)."),
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    event_types = forms.MultipleChoiceField(label=_("Events"), widget=forms.CheckboxSelectMultiple)
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["event_types"].choices = [
            (key, f"{key} — {label}") for key, label in sorted(events.EVENT_TYPES.items())
        ]

    def clean_url(self) -> str:
        from django.core.exceptions import ValidationError

        from followup.engine import webhooks

        try:
            return webhooks.validate_url(self.cleaned_data["url"])
        except ValidationError as exc:
            raise forms.ValidationError(exc.message_dict["url"]) from None


class PreferenceForm(InputRulesFormMixin, forms.Form):
    in_app = forms.BooleanField(label=_("In the app"), required=False)
    email = forms.ChoiceField(label=_("E-mail"), choices=EmailMode.choices)

    def __init__(self, *args: Any, digestible: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not digestible:
            self.fields["email"].choices = [
                c for c in EmailMode.choices if c[0] != EmailMode.DIGEST
            ]


SUBJECTS_PER_TYPE = 200


def subject_value(subject: Any) -> str:
    from followup.kernel import subjects

    return f"{subjects.type_key(type(subject))}:{subject.pk}"


def subject_choices(org: Any, chosen: Any = None) -> list[Any]:
    """The choice "Nothing in particular", then this organization's followable subjects
    grouped by type (up to ``SUBJECTS_PER_TYPE`` each, by name; one query per type), the
    ``chosen`` one always among them. Another organization's row is never offered, and
    ``resolve`` refuses it if posted by hand."""
    from followup.kernel import subjects

    choices: list[Any] = [("", _("Nothing in particular"))]
    chosen_value = subject_value(chosen) if chosen is not None else ""
    for entry in subjects.registered():
        if not entry.followable:
            continue
        rows = entry.model.objects.for_org(org)  # type: ignore[attr-defined]
        if entry.related:
            rows = rows.select_related(*entry.related)
        options = [
            (f"{entry.key}:{row.pk}", entry.describe(row)) for row in rows[:SUBJECTS_PER_TYPE]
        ]
        missing = all(value != chosen_value for value, _label in options)
        if chosen is not None and chosen_value.startswith(entry.key + ":") and missing:
            options.insert(0, (chosen_value, entry.describe(chosen)))
        if options:
            options.sort(key=lambda option: str(option[1]).lower())
            choices.append((str(entry.label), options))
    return choices
