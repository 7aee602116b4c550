"""Forms of the project settings pages. They parse input; the services decide."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from projects.choices import DEFAULT_ENVIRONMENTS, Role, Tier

# How many environment rows the new-project form offers (blank rows are ignored).
NEW_PROJECT_ENV_ROWS = 6


class ProjectForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


class ProjectCreateForm(ProjectForm):
    slug = forms.CharField(
        max_length=60,
        required=False,
        help_text="Used in URLs and by the API. Lower-case letters, digits and hyphens; "
        "left empty, it is made from the name.",
    )


class EnvironmentRowForm(forms.Form):
    name = forms.CharField(max_length=40, required=False)
    display_name = forms.CharField(max_length=80, required=False)
    tier = forms.ChoiceField(choices=[("", "—"), *Tier.choices], required=False)

    def spec(self) -> dict | None:
        """The row as the service's {name, display_name, tier}, or None when left blank."""
        data = self.cleaned_data
        if not (data.get("name") or data.get("display_name") or data.get("tier")):
            return None
        return {
            "name": data.get("name", ""),
            "display_name": data.get("display_name", ""),
            "tier": data.get("tier", ""),
        }


EnvironmentRowFormSet = forms.formset_factory(
    EnvironmentRowForm, extra=0, min_num=NEW_PROJECT_ENV_ROWS, max_num=50, absolute_max=50
)


def environment_rows_initial() -> list[dict]:
    return [
        {"name": name, "display_name": display, "tier": str(tier)}
        for name, display, tier in DEFAULT_ENVIRONMENTS
    ]


class EnvironmentAddForm(forms.Form):
    name = forms.CharField(
        max_length=40, help_text="Short name used in URLs, the API and the CLI, e.g. qa."
    )
    display_name = forms.CharField(max_length=80, required=False)
    tier = forms.ChoiceField(choices=Tier.choices)
    position = forms.IntegerField(
        min_value=1, max_value=1000, required=False, help_text="1 is first; empty: last."
    )


class EnvironmentEditForm(forms.Form):
    display_name = forms.CharField(max_length=80)
    tier = forms.ChoiceField(choices=Tier.choices)


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=2000, required=False)


class MemberAddForm(forms.Form):
    person = forms.CharField(
        max_length=254,
        label="Username or e-mail",
        help_text="Someone who already has an account on this Shipcheck.",
    )
    role = forms.ChoiceField(choices=Role.choices)
    reason = forms.CharField(max_length=2000, required=False)


class MemberRemoveForm(forms.Form):
    user = forms.IntegerField(min_value=1)
    role = forms.ChoiceField(choices=Role.choices)
    reason = forms.CharField(max_length=2000, required=False)


class SetupForm(forms.Form):
    username = forms.CharField(max_length=150)
    email = forms.EmailField(required=False, label="E-mail")
    password1 = forms.CharField(widget=forms.PasswordInput, label="Password", strip=False)
    password2 = forms.CharField(widget=forms.PasswordInput, label="Password again", strip=False)

    def clean(self):
        # Form.clean returns cleaned_data; the stub allows None for overrides that return nothing.
        data = cast(dict[str, Any], super().clean())
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", "The two passwords differ.")
        return data
