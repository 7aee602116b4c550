"""Forms that parse the incident pages' input (the services check the rules)."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from incidents.choices import ROLLBACK_CRITERIA
from incidents.models import IncidentState, MitigationChoice, Severity
from incidents.services.postmortems import SECTIONS


def form_errors(form: forms.Form) -> list[str]:
    found: list[str] = []
    for name, errors in form.errors.items():
        label = str(form.fields[name].label or name) if name in form.fields else ""
        found += [f"{label}: {e}" if label else str(e) for e in errors]
    return found


class OpenForm(forms.Form):
    project = forms.TypedChoiceField(coerce=int, label="Project")
    title = forms.CharField(max_length=200)
    severity = forms.TypedChoiceField(
        choices=Severity.choices, coerce=int, initial=Severity.SEV2, label="Severity"
    )
    impact = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    started_at = forms.DateTimeField(label="Started at (UTC)")
    detected_at = forms.DateTimeField(label="Detected at (UTC)", required=False)
    cause_deployment = forms.IntegerField(
        required=False,
        label="Suspected deployment (id)",
        help_text="Leave empty and Shipcheck proposes the last production deployment before the start.",
    )
    window = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, projects: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["project"]).choices = [(p.pk, p.name) for p in projects]


class UpdateForm(forms.Form):
    state = forms.ChoiceField(choices=IncidentState.choices, label="Status")
    impact = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    actions_taken = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, label="Actions taken"
    )
    next_steps = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, label="Next steps"
    )


class EntryForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="What happened")
    at = forms.DateTimeField(required=False, label="When (UTC, empty for now)")


class MitigationForm(forms.Form):
    decision = forms.ChoiceField(choices=MitigationChoice.choices, widget=forms.RadioSelect)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    criteria = forms.MultipleChoiceField(
        choices=ROLLBACK_CRITERIA,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Rollback criteria met",
    )


class HotfixForm(forms.Form):
    version = forms.CharField(max_length=64, label="Hotfix version")
    title = forms.CharField(max_length=200, required=False)


class PeopleForm(forms.Form):
    commander = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    responders = forms.TypedMultipleChoiceField(coerce=int, required=False)

    def __init__(self, *args: Any, members: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(u.pk, u.get_full_name() or u.get_username()) for u in members]
        cast(forms.ChoiceField, self.fields["commander"]).choices = [("", "—")] + choices
        cast(forms.ChoiceField, self.fields["responders"]).choices = choices


class PostMortemForm(forms.Form):
    title = forms.CharField(max_length=200)

    def __init__(self, *args: Any, headings: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        headings = headings or {}
        for name, heading in SECTIONS:
            self.fields[name] = forms.CharField(
                label=headings.get(name, heading),
                required=False,
                widget=forms.Textarea(attrs={"rows": 4}),
            )


class ItemForm(forms.Form):
    title = forms.CharField(max_length=300)
    owner = forms.TypedChoiceField(coerce=int)
    due_on = forms.DateField(label="Due on")
    ticket_key = forms.CharField(max_length=64, required=False, label="Ticket key")

    def __init__(self, *args: Any, members: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["owner"]).choices = [
            (u.pk, u.get_full_name() or u.get_username()) for u in members
        ]


class SettingsForm(forms.Form):
    status_template = forms.CharField(widget=forms.Textarea(attrs={"rows": 14}))
    update_interval_minutes = forms.IntegerField(min_value=5, max_value=1440)


class CloseForm(forms.Form):
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}))
