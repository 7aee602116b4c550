from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone

from projects.choices import TokenScope

EXPIRY_CHOICES = [
    ("30", "In 30 days"),
    ("90", "In 90 days"),
    ("365", "In a year"),
    ("never", "Never (revoke it by hand)"),
]


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        max_length=80,
        label="Name",
        help_text="Where the token is used, e.g. “GitHub Actions: deploy workflow”.",
        widget=forms.TextInput(
            attrs={"placeholder": "GitHub Actions: deploy", "autocomplete": "off"}
        ),
    )
    scopes = forms.MultipleChoiceField(
        choices=TokenScope.choices,
        widget=forms.CheckboxSelectMultiple,
        # "config" (shipcheck config plan|apply, acting for the token's creator) only when asked.
        initial=[s for s in TokenScope.values if s != TokenScope.CONFIG],
        label="Scopes",
        help_text="What the token may do. Pipelines that create releases and deploy need read, releases "
        "and deployments; uploading test results needs test_results; config plans and applies "
        "shipcheck.yml with your rights as project admin.",
        error_messages={"required": "Choose at least one scope."},
    )
    expires_in = forms.ChoiceField(choices=EXPIRY_CHOICES, initial="90", label="Expires")

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Name the token after where it is used.")
        return name

    def expires_at(self):
        value = self.cleaned_data["expires_in"]
        return None if value == "never" else timezone.now() + timedelta(days=int(value))
