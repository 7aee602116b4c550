from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from accounts import throttle
from projects.choices import Role


class ThrottledAuthenticationForm(AuthenticationForm):
    """Django's username + password form, refusing an account or address that failed too often."""

    def clean(self):
        username = str(self.cleaned_data.get("username") or "")
        address = throttle.client_address(self.request)
        left = throttle.locked_for(username=username, address=address)
        if left:
            raise ValidationError(throttle.lockout_message(left), code="locked_out")
        try:
            cleaned = super().clean()
        except ValidationError as exc:
            if getattr(exc, "code", None) == "invalid_login":
                seconds = throttle.failure_record(username=username, address=address)
                if seconds:
                    raise ValidationError(
                        throttle.lockout_message(seconds), code="locked_out"
                    ) from None
            raise
        throttle.success_record(username=username)
        return cleaned


class InvitationForm(forms.Form):
    email = forms.EmailField(max_length=254, label="E-mail address")
    roles = forms.MultipleChoiceField(
        choices=Role.choices, widget=forms.CheckboxSelectMultiple, label="Roles"
    )


class AcceptForm(forms.Form):
    username = forms.CharField(max_length=150, label="Username")
    password = forms.CharField(widget=forms.PasswordInput, label="Password", strip=False)
    password_again = forms.CharField(
        widget=forms.PasswordInput, label="Password, again", strip=False
    )


class GroupMappingForm(forms.Form):
    group = forms.CharField(max_length=150, label="Provider group")
    role = forms.ChoiceField(choices=Role.choices, label="Role")


class ProjectSecurityForm(forms.Form):
    require_mfa_for_approvers = forms.BooleanField(
        required=False,
        label="Require a second factor (authenticator app or passkey) of the people who approve "
        "production deployments or emergency releases",
    )


class DeactivateForm(forms.Form):
    reason = forms.CharField(max_length=500, required=False, label="Reason")
