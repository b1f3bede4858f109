from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.utils.translation import gettext_lazy as _

from accounts.identity import normalize_identifier
from accounts.inputs import InputRulesFormMixin
from accounts.models import Membership, Organization, User, timezone_choices
from accounts.roles import Role, can_grant


class EmailAuthenticationForm(InputRulesFormMixin, AuthenticationForm):
    username = forms.EmailField(
        label=_("E-mail"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    # Set when the password was right but the address is not confirmed yet: the page then
    # offers to send the confirmation link again.
    unconfirmed = False

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if user.email_confirmed_at is None:
            self.unconfirmed = True
            raise forms.ValidationError(
                _(
                    "Confirm your e-mail address first: open the link we mailed you when you "
                    "signed up."
                ),
                code="unconfirmed",
            )

    def clean_username(self) -> str:
        # One identifier for the password check and for the lockout's failure count.
        return normalize_identifier(self.cleaned_data.get("username"))


class NormalizedPasswordResetForm(InputRulesFormMixin, PasswordResetForm):
    def clean_email(self) -> str:
        return normalize_identifier(self.cleaned_data.get("email"))


class ResendConfirmationForm(InputRulesFormMixin, forms.Form):
    email = forms.EmailField(
        label=_("E-mail"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )

    def clean_email(self) -> str:
        return normalize_identifier(self.cleaned_data["email"])


class TimezoneField(forms.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Time zone"))
        super().__init__(choices=timezone_choices, **kwargs)


class SignUpForm(InputRulesFormMixin, forms.Form):
    display_name = forms.CharField(label=_("Your name"), max_length=120)
    email = forms.EmailField(
        label=_("Work e-mail"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 10 characters, not only digits, not a common password."),
    )
    timezone = TimezoneField(initial="UTC")

    def __init__(self, *args: Any, invited_email: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.invited_email = invited_email
        if invited_email:
            # Joining an existing organization: the e-mail is fixed.
            self.fields["email"].initial = invited_email
            self.fields["email"].disabled = True

    def clean_email(self) -> str:
        email = normalize_identifier(self.cleaned_data["email"])
        # Only an invitee (who holds the invitation's token) learns that the address has an
        # account; an open sign-up answers the same for known and unknown addresses.
        if self.invited_email and User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                _("An account with this e-mail already exists. Log in instead.")
            )
        return email

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        password = cleaned.get("password")
        if password:
            probe = User(
                email=cleaned.get("email", ""), display_name=cleaned.get("display_name", "")
            )
            try:
                password_validation.validate_password(password, probe)
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        return cleaned


class OrganizationCreateForm(InputRulesFormMixin, forms.Form):
    name = forms.CharField(label=_("Organization name"), max_length=120)
    timezone = TimezoneField()


class OrganizationSettingsForm(InputRulesFormMixin, forms.ModelForm):
    timezone = TimezoneField()

    class Meta:
        model = Organization
        fields = ["name", "timezone"]


class ProfileForm(InputRulesFormMixin, forms.ModelForm):
    timezone = TimezoneField()

    class Meta:
        model = User
        fields = ["display_name", "timezone", "language"]


def _role_choices_for(granter_role: str) -> list[tuple[str, str]]:
    return [(value, label) for value, label in Role.choices if can_grant(granter_role, value)]


class InviteForm(InputRulesFormMixin, forms.Form):
    email = forms.EmailField(label=_("E-mail"))
    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, *args: Any, granter_role: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = _role_choices_for(granter_role)
        self.fields["role"].initial = Role.MEMBER


class RoleForm(InputRulesFormMixin, forms.Form):
    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, *args: Any, granter_role: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = _role_choices_for(granter_role)


class MemberRemoveForm(InputRulesFormMixin, forms.Form):
    """Who takes over the open work of a person who leaves, or "cancel it"."""

    CANCEL = "cancel"

    hand_over_to = forms.ChoiceField(required=False)

    def __init__(
        self,
        *args: Any,
        candidates: list[Membership],
        default: User | None,
        leaving_self: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._people = {str(m.user_id): m.user for m in candidates}
        field = cast(forms.ChoiceField, self.fields["hand_over_to"])
        field.choices = [
            *((pk, user.name) for pk, user in self._people.items()),
            (self.CANCEL, _("Cancel them")),
        ]
        field.initial = str(default.pk) if default is not None else self.CANCEL
        field.label = (
            _("Hand my open follow-ups to") if leaving_self else _("Hand their open follow-ups to")
        )
        field.help_text = _(
            "Customers and engagements owned go to the same person. “Cancel them” cancels "
            "the open follow-ups and leaves those records without an owner."
        )

    def clean_hand_over_to(self) -> str:
        # Posted without a choice (the default was not touched): the default applies.
        return str(self.cleaned_data["hand_over_to"] or self.fields["hand_over_to"].initial)

    @property
    def successor(self) -> User | None:
        """The chosen person, or None for "cancel them" (call after ``is_valid()``)."""
        return self._people.get(self.cleaned_data["hand_over_to"])


class ApiKeyForm(InputRulesFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("e.g. CRM sync"))
    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, *args: Any, granter_role: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = _role_choices_for(granter_role)
        self.fields["role"].initial = Role.MEMBER


class LanguageForm(InputRulesFormMixin, forms.Form):
    language = forms.ChoiceField(choices=settings.LANGUAGES)
    next = forms.CharField(required=False)


class AuditFilterForm(InputRulesFormMixin, forms.Form):
    """The filters of the audit page (GET): every field optional."""

    actor = forms.CharField(label=_("Who"), required=False, max_length=100)
    action = forms.ChoiceField(label=_("Action"), required=False)
    object_type = forms.ChoiceField(label=_("Object"), required=False)
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(
        self, *args: Any, actions: list[tuple[str, str]], object_types: list[str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", _("Any action")), *actions]
        self.fields["object_type"].choices = [
            ("", _("Any object")),
            *[(t, t) for t in object_types],
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", _("Choose a date on or after the start."))
        return data
