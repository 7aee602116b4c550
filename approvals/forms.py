"""Forms of the approvals pages: they parse what a person typed; the services decide."""

from __future__ import annotations

from typing import cast

from django import forms

from approvals.choices import ApprovalKind, CriterionKind, Decision, MeetingDecision, Seat, Vote
from approvals.services import COMMENT_MAX
from projects.choices import Role

NOTES_MAX = 20_000


def form_errors(form: forms.Form) -> list[str]:
    """Every error of a form as sentences, field errors prefixed with the field's label."""
    found = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        for error in errors:
            found.append(f"{label}: {error}" if label and name != "__all__" else str(error))
    return found


class DecisionForm(forms.Form):
    kind = forms.ChoiceField(choices=ApprovalKind.choices)
    environment = forms.IntegerField(required=False, min_value=1)
    decision = forms.ChoiceField(choices=Decision.choices)
    comment = forms.CharField(required=False, max_length=COMMENT_MAX, label="Comment")
    role = forms.ChoiceField(required=False, choices=[("", "—"), *Role.choices])
    # The page asks before a scope with no tickets is approved (the API does not).
    confirm_empty_scope = forms.BooleanField(required=False)


class RequestForm(forms.Form):
    kind = forms.ChoiceField(choices=ApprovalKind.choices)
    environment = forms.IntegerField(required=False, min_value=1)
    note = forms.CharField(required=False, max_length=COMMENT_MAX, label="Note")


class WithdrawForm(forms.Form):
    reason = forms.CharField(required=False, max_length=COMMENT_MAX, label="Reason")


class EmergencyForm(forms.Form):
    environment = forms.IntegerField(min_value=1)
    justification = forms.CharField(
        max_length=COMMENT_MAX,
        label="Justification",
        error_messages={"required": "Write why this hotfix cannot wait for staging."},
    )


class ReviewForm(forms.Form):
    summary = forms.CharField(
        max_length=NOTES_MAX,
        label="Review summary",
        error_messages={"required": "Write what the review found."},
    )


class _RolesField(forms.MultipleChoiceField):
    """The checkboxes of the roles that may approve; which roles are allowed is the service's rule."""

    def validate(self, value):
        pass


class PolicyForm(forms.Form):
    """Parses the policy row; the numbers' ranges and the roles are checked by
    ``approval_policy_update``, so the page and the API refuse with the same sentence."""

    environment = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    required_approvals = forms.IntegerField(label="Deployment approvals needed")
    approver_roles = _RolesField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Who may approve",
        choices=[(r.value, r.label) for r in Role if r != Role.AUDITOR],
    )
    requires_qa_signoff = forms.BooleanField(
        required=False, label="QA sign-off of the previous environment"
    )
    requires_scope_approval = forms.BooleanField(
        required=False, label="Scope approved by the product owner"
    )
    requires_go_no_go = forms.BooleanField(required=False, label="A go/no-go decision")
    approval_valid_hours = forms.IntegerField(
        required=False, label="Approvals expire after (hours)"
    )


class ScheduleForm(forms.Form):
    environment = forms.ChoiceField(label="Environment")
    scheduled_for = forms.DateTimeField(
        label="When",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )
    security_sensitive = forms.BooleanField(
        required=False, label="Security-sensitive: invite security"
    )
    attendees = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Attendees"
    )

    def __init__(self, data=None, *, environments, seats, **kwargs):
        super().__init__(data, **kwargs)
        self.environments = {str(e.pk): e for e in environments}
        # The stubs type self.fields[...] as Field; these are the ChoiceFields declared above.
        cast(forms.ChoiceField, self.fields["environment"]).choices = [
            (str(e.pk), str(e)) for e in environments
        ]
        self.seats = seats  # user id → (user, seat)
        cast(forms.MultipleChoiceField, self.fields["attendees"]).choices = [
            (str(pk), f"{user.get_full_name() or user.get_username()} · {Seat(seat).label}")
            for pk, (user, seat) in seats.items()
        ]

    def clean_environment(self):
        return self.environments[self.cleaned_data["environment"]]

    def chosen(self) -> list[tuple]:
        return [self.seats[int(pk)] for pk in self.cleaned_data["attendees"]]


class VoteForm(forms.Form):
    vote = forms.ChoiceField(choices=Vote.choices, label="Vote")
    comment = forms.CharField(required=False, max_length=2000, label="Comment")


class NotesForm(forms.Form):
    notes = forms.CharField(required=False, max_length=NOTES_MAX, label="Notes")


class CriterionForm(forms.Form):
    checked = forms.ChoiceField(
        choices=[("yes", "Yes"), ("no", "No"), ("", "Not judged")], required=False
    )
    note = forms.CharField(required=False, max_length=2000, label="Note")

    def value(self) -> bool | None:
        return {"yes": True, "no": False}.get(self.cleaned_data["checked"])


class CriterionAddForm(forms.Form):
    kind = forms.ChoiceField(choices=CriterionKind.choices)
    title = forms.CharField(max_length=200, label="Title")


class DecideForm(forms.Form):
    decision = forms.ChoiceField(choices=MeetingDecision.choices, label="Decision")
    reason = forms.CharField(
        max_length=COMMENT_MAX,
        label="Reason",
        error_messages={"required": "Give the reason for the decision."},
    )


class RescheduleForm(forms.Form):
    scheduled_for = forms.DateTimeField(
        label="New time",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )
    reason = forms.CharField(required=False, max_length=COMMENT_MAX, label="Reason")


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=COMMENT_MAX, label="Reason")


class AttendeeForm(forms.Form):
    person = forms.IntegerField(min_value=1)
    seat = forms.ChoiceField(choices=Seat.choices)
