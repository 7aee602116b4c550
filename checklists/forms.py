"""Forms for the checklist pages. They shape input; the services hold the rules."""

from __future__ import annotations

from typing import cast

from django import forms

from checklists.choices import ITEM_ROLES, StepPhase
from projects.choices import Role
from releases.choices import ReleaseType


class AdhocItemForm(forms.Form):
    text = forms.CharField(max_length=300, label="Item")
    role = forms.ChoiceField(choices=ITEM_ROLES, initial=Role.RELEASE_MANAGER, label="Owned by")
    required = forms.BooleanField(required=False, initial=True)
    evidence_required = forms.BooleanField(required=False, label="Needs evidence")


class TemplateForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    release_types = forms.MultipleChoiceField(
        choices=ReleaseType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Default for release types",
        help_text="New releases of these types start from this template.",
    )


class TemplateCreateForm(TemplateForm):
    project = forms.ChoiceField(choices=())
    copy_from = forms.ChoiceField(choices=(), required=False, label="Start from")

    def __init__(self, *args, projects=(), versions=(), **kwargs):
        super().__init__(*args, **kwargs)
        # The stubs type self.fields[...] as Field; these are the ChoiceFields declared above.
        cast(forms.ChoiceField, self.fields["project"]).choices = [
            (p.slug, p.name) for p in projects
        ]
        cast(forms.ChoiceField, self.fields["copy_from"]).choices = [("", "An empty template")] + [
            (
                str(v.pk),
                f"{v.template.name} (v{v.number}{', shipped' if v.template.project_id is None else ''})",
            )
            for v in versions
        ]


class StepTemplateForm(forms.Form):
    title = forms.CharField(max_length=200)
    phase = forms.ChoiceField(
        choices=StepPhase.choices, initial=StepPhase.BEFORE_PRODUCTION, label="Due"
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    expected_output = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Expected output"
    )


class ItemTemplateForm(forms.Form):
    text = forms.CharField(max_length=300, label="Item")
    role = forms.ChoiceField(choices=ITEM_ROLES, initial=Role.RELEASE_MANAGER, label="Owned by")
    required = forms.BooleanField(required=False, initial=True)
    evidence_required = forms.BooleanField(required=False, label="Needs evidence")
