"""Forms of the release pages.

They parse and check what a person typed, so mistakes show next to the field
before anything is sent to a service. The services still decide: a rule that
only they know (a version taken a moment ago, a release already cancelled)
comes back as a domain error and is placed next to the field by the view.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth import get_user_model

from projects.models import Project
from releases.choices import DeploymentStrategy, ReleaseStatus, ReleaseType
from releases.exceptions import InvalidVersion
from releases.models import Release
from releases.versions import version_parse

# Long enough for any real release note; short enough that a runaway paste is refused.
MAX_TEXT = 50_000


class ReleaseFilterForm(forms.Form):
    """The filters above the release list. Invalid values are ignored, never an error page."""

    q = forms.CharField(
        required=False,
        max_length=100,
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Version or title…"}),
    )
    project = forms.ChoiceField(required=False)
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *ReleaseStatus.choices])
    type = forms.ChoiceField(required=False, choices=[("", "Any type"), *ReleaseType.choices])

    def __init__(self, data=None, *, projects=()):
        super().__init__(data)
        # The stubs type self.fields[...] as Field; these are the ChoiceFields declared above.
        cast(forms.ChoiceField, self.fields["project"]).choices = [
            ("", "All projects"),
            *((p.slug, p.name) for p in projects),
        ]

    def filters(self) -> dict:
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value}


def _members_of(projects):
    user_model = get_user_model()
    return (
        user_model.objects.filter(memberships__project__in=projects, is_active=True)
        .distinct()
        .order_by("username")
    )


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        full = obj.get_full_name()
        return f"{full} ({obj.get_username()})" if full else obj.get_username()


class ReleaseForm(forms.Form):
    """Create a release (with ``projects``) or edit one (with ``release``)."""

    project = forms.ModelChoiceField(queryset=Project.objects.none(), empty_label=None)
    version = forms.CharField(
        max_length=64,
        help_text="Semantic version, for example 2.4.0 or 3.0.0-rc.1.",
        widget=forms.TextInput(attrs={"placeholder": "2.4.0", "autocomplete": "off"}),
    )
    title = forms.CharField(
        max_length=200, widget=forms.TextInput(attrs={"placeholder": "Faster checkout"})
    )
    type = forms.ChoiceField(choices=ReleaseType.choices, initial=ReleaseType.MINOR)
    release_manager = PersonChoiceField(queryset=get_user_model().objects.none(), empty_label=None)
    target_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    description = forms.CharField(
        required=False, max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 3})
    )
    notes = forms.CharField(
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Markdown. Shown on the release page.",
    )
    rollback_plan = forms.CharField(
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Markdown. Production deployments need one.",
    )
    artifact_version = forms.CharField(
        required=False,
        max_length=120,
        label="Artifact",
        widget=forms.TextInput(attrs={"placeholder": "registry/app:2.4.0"}),
    )
    commit_sha = forms.CharField(
        required=False,
        max_length=64,
        label="Commit",
        widget=forms.TextInput(attrs={"placeholder": "a1b2c3d", "autocomplete": "off"}),
    )

    def __init__(
        self, data=None, *, user, projects=None, release: Release | None = None, initial=None
    ):
        super().__init__(data, initial=initial)
        self.release = release
        if release is not None:
            del self.fields["project"]
            self._choice("release_manager").queryset = _members_of([release.project_id])
            return
        projects = list(projects or [])
        self._choice("project").queryset = Project.objects.filter(pk__in=[p.pk for p in projects])
        chosen = self._chosen_project(projects)
        self._choice("release_manager").queryset = _members_of(
            [chosen.pk] if chosen else [p.pk for p in projects]
        )
        if not self.is_bound:
            if chosen is not None:
                self.initial.setdefault("project", chosen.pk)
            self.initial.setdefault("release_manager", user.pk)

    def _choice(self, name: str) -> forms.ModelChoiceField:
        """A choice field of this form, whose queryset depends on the person and project."""
        return cast(forms.ModelChoiceField, self.fields[name])

    def _chosen_project(self, projects):
        """The project the manager list is narrowed to: the one picked, or the only one."""
        raw = self.data.get("project") if self.is_bound else self.initial.get("project")
        for project in projects:
            if str(project.pk) == str(raw):
                return project
        return projects[0] if len(projects) == 1 else None

    @property
    def target_project(self) -> Project | None:
        if self.release is not None:
            return self.release.project
        return self.cleaned_data.get("project") if hasattr(self, "cleaned_data") else None

    def clean_version(self) -> str:
        try:
            normalised, *_ = version_parse(self.cleaned_data["version"])
        except InvalidVersion as exc:
            raise forms.ValidationError(exc.message, code="invalid_version") from None
        return normalised

    def clean_commit_sha(self) -> str:
        sha = self.cleaned_data["commit_sha"].strip().lower()
        if sha and (len(sha) < 7 or any(c not in "0123456789abcdef" for c in sha)):
            raise forms.ValidationError("Write a git commit hash: 7 to 64 hexadecimal digits.")
        return sha

    def clean(self):
        # Form.clean returns cleaned_data; the stub allows None for overrides that return nothing.
        data = cast(dict[str, Any], super().clean())
        project = self.target_project
        version = data.get("version")
        if project is not None and version:
            taken = Release.objects.filter(project=project, version=version)
            if self.release is not None:
                taken = taken.exclude(pk=self.release.pk)
            if taken.exists():
                self.add_error("version", f"Version {version} already exists in {project}.")
        return data

    def service_arguments(self) -> dict:
        """Cleaned values named as ``release_create`` / ``release_update`` expect them."""
        data = dict(self.cleaned_data)
        data.pop("project", None)
        return data


class PromoteForm(forms.Form):
    environment = forms.ChoiceField()
    strategy = forms.ChoiceField(
        choices=DeploymentStrategy.choices, initial=DeploymentStrategy.ALL_AT_ONCE
    )

    def __init__(self, data=None, *, environments=()):
        super().__init__(data)
        self.environments = {env.name: env for env in environments}
        # The stubs type self.fields[...] as Field; these are the ChoiceFields declared above.
        cast(forms.ChoiceField, self.fields["environment"]).choices = [
            (env.name, str(env)) for env in environments
        ]


class FinishForm(forms.Form):
    outcome = forms.ChoiceField(choices=[("succeeded", "Succeeded"), ("failed", "Failed")])
    reason = forms.CharField(required=False, max_length=2000)


class ReasonForm(forms.Form):
    """Cancel a release or roll back a deployment: both need a reason, the service says so."""

    reason = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class TicketAddForm(forms.Form):
    """A ticket the release manager adds to the scope on the release page."""

    key = forms.CharField(
        max_length=64,
        label="Ticket key",
        error_messages={"required": "Write the ticket's key, such as SHOP-123."},
    )
    title = forms.CharField(required=False, max_length=300, label="Title")
    type = forms.CharField(required=False, max_length=64, label="Type")
    url = forms.URLField(
        required=False,
        max_length=500,
        label="Link",
        assume_scheme="https",
        error_messages={"invalid": "The link must be a web address (https://…)."},
    )


class TicketRemoveForm(forms.Form):
    key = forms.CharField(max_length=64)


class CommitAddForm(forms.Form):
    """A commit attached by hand: its hash, and optionally its message and author."""

    sha = forms.RegexField(
        regex=r"^\s*[0-9a-fA-F]{7,64}\s*$",
        label="Commit hash",
        error_messages={
            "required": "Write the commit's hash.",
            "invalid": "A commit hash is 7 to 64 hexadecimal digits (0-9, a-f).",
        },
    )
    message = forms.CharField(required=False, max_length=MAX_TEXT, label="Message")
    author = forms.CharField(required=False, max_length=200, label="Author")


class CommitRemoveForm(forms.Form):
    sha = forms.CharField(max_length=64)


def form_errors(form: forms.Form) -> list[str]:
    """Every error of a small action form as sentences, field label first."""
    messages: list[str] = []
    for name, errors in form.errors.items():
        label = ""
        if name in form.fields:
            label = str(form.fields[name].label or name.replace("_", " ").capitalize())
        for error in errors:
            messages.append(f"{label}: {error}" if label else str(error))
    return messages
