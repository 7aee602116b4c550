"""Input and output shapes of the pipeline API (/api/v1/ci/...).

Input serializers refuse fields they do not know: a typo in a pipeline
("enviroment") must fail loudly, not be ignored.
"""

from __future__ import annotations

from collections.abc import Mapping

from rest_framework import serializers

from core.api.deprecation import USED_KEY
from integrations.gitlog import MAX_COMMITS
from integrations.services import DeploymentOutcome
from releases.choices import DeploymentStrategy, ReleaseType
from releases.models import TestRun, Ticket

MAX_TICKETS = 1000


class StrictSerializer(serializers.Serializer):
    """Refuses unknown fields, naming them and the fields that are accepted."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(str(name) for name in data if name not in self.fields)
            if unknown:
                accepted = ", ".join(self.fields)
                raise serializers.ValidationError(
                    {
                        name[:60]: [f"Unknown field. Accepted fields: {accepted}."]
                        for name in unknown[:20]
                    }
                )
        return super().to_internal_value(data)


def _project_field():
    return serializers.SlugField(
        required=False,
        max_length=60,
        help_text="Project slug. Implicit for an API token (it belongs to one project); "
        "required when signed in as a person.",
    )


# --- Input ---------------------------------------------------------------------


class CiReleaseCreateInput(StrictSerializer):
    project = _project_field()
    version = serializers.CharField(
        max_length=64, help_text="Semantic version, e.g. 1.3.0 or v2.0.0-rc.1."
    )
    title = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text='Defaults to "Release <version>".',
    )
    type = serializers.ChoiceField(choices=ReleaseType.choices, required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    notes = serializers.CharField(
        required=False, allow_blank=True, max_length=50_000, help_text="Release notes in Markdown."
    )
    rollback_plan = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=20_000,
        help_text="How to undo this release, in Markdown. Production needs one.",
    )
    release_manager = serializers.CharField(
        required=False,
        max_length=150,
        help_text="Username of the project member who manages the release. "
        "Defaults to the person who created the token.",
    )
    artifact_version = serializers.CharField(required=False, allow_blank=True, max_length=120)
    commit_sha = serializers.CharField(required=False, allow_blank=True, max_length=64)
    target_date = serializers.DateField(required=False, allow_null=True)


class CiCommitInput(StrictSerializer):
    sha = serializers.RegexField(
        r"^[0-9a-fA-F]{7,64}$",
        max_length=64,
        error_messages={"invalid": "A commit hash is 7 to 64 hexadecimal digits."},
    )
    message = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    author = serializers.CharField(required=False, allow_blank=True, max_length=200)
    committed_at = serializers.DateTimeField(required=False, allow_null=True)


class CiCommitsInput(StrictSerializer):
    project = _project_field()
    # many=True hands max_length to the ListSerializer it builds; drf-stubs do not know that.
    commits = CiCommitInput(  # type: ignore[call-arg]
        many=True,
        required=False,
        max_length=MAX_COMMITS,
        help_text="Commits as a list. Send either this or git_log.",
    )
    git_log = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        max_length=5_000_000,
        help_text="Raw output of: git log --format='%x1e%H%x1f%an <%ae>%x1f%aI%x1f%B' FROM..TO",
    )

    def validate(self, attrs):
        if ("commits" in attrs) == ("git_log" in attrs):
            raise serializers.ValidationError(
                "Send either 'commits' (a list) or 'git_log' (raw git log output)."
            )
        return attrs


class CiTicketInput(StrictSerializer):
    key = serializers.CharField(max_length=64, help_text="Ticket key, e.g. PAY-142.")
    title = serializers.CharField(required=False, allow_blank=True, max_length=300)
    url = serializers.URLField(required=False, allow_blank=True, max_length=500)
    status = serializers.CharField(required=False, allow_blank=True, max_length=64)
    type = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text="The tracker's issue type (Bug, Story, Improvement, Security …): release notes "
        "group a ticket no commit mentions by it.",
    )


class CiTicketsInput(StrictSerializer):
    project = _project_field()
    # As for commits: min_length and max_length go to the ListSerializer (drf-stubs miss them).
    tickets = CiTicketInput(many=True, min_length=1, max_length=MAX_TICKETS)  # type: ignore[call-arg]


class CiDeploymentReportInput(StrictSerializer):
    project = _project_field()
    environment = serializers.SlugField(max_length=40, help_text="Environment name, e.g. staging.")
    status = serializers.ChoiceField(
        choices=[(c, c) for c in DeploymentOutcome.CHOICES],
        help_text="started: begin a deployment (every gate must be open). succeeded / failed: "
        "finish the deployment of this release running in the environment.",
    )
    artifact_version = serializers.CharField(required=False, allow_blank=True, max_length=120)
    commit_sha = serializers.RegexField(
        r"^[0-9a-fA-F]{7,64}$",
        required=False,
        allow_blank=True,
        max_length=64,
        error_messages={"invalid": "A commit hash is 7 to 64 hexadecimal digits."},
    )
    strategy = serializers.ChoiceField(
        choices=DeploymentStrategy.choices, required=False, help_text="Only when starting."
    )
    notes = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text='Notes about a deployment that starts. When finishing, send "reason"; notes '
        "there are the old spelling, accepted until 2027-06-01.",
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="Why, or what happened, when finishing (succeeded / failed); kept in the audit trail.",
    )

    def validate(self, attrs: dict) -> dict:
        used = []
        if attrs["status"] == DeploymentOutcome.STARTED:
            if "reason" in attrs:
                raise serializers.ValidationError(
                    {
                        "reason": [
                            'Only when finishing; describe a deployment that starts in "notes".'
                        ]
                    }
                )
        elif "notes" in attrs:
            if "reason" in attrs:
                raise serializers.ValidationError(
                    {"notes": ['When finishing, send "reason" only.']}
                )
            attrs["reason"] = attrs.pop("notes")
            used.append(
                '"notes" on a finished deployment is deprecated; send "reason" instead '
                "(accepted until 2027-06-01)."
            )
        attrs[USED_KEY] = used
        return attrs


class CiTestRunInput(StrictSerializer):
    project = _project_field()
    name = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Defaults to the report's suite name.",
    )
    environment = serializers.SlugField(
        required=False, max_length=40, help_text="Where the tests ran, if in an environment."
    )
    junit_xml = serializers.CharField(
        trim_whitespace=False,
        max_length=5_000_000,
        help_text="The JUnit XML report. A DOCTYPE or entities are refused.",
    )
    coverage_percent = serializers.FloatField(
        required=False, allow_null=True, min_value=0, max_value=100
    )


# --- Output --------------------------------------------------------------------


class CiCommitsResultSerializer(serializers.Serializer):
    added = serializers.IntegerField(help_text="Commits that were new to the release.")
    total = serializers.IntegerField(help_text="Commits the release holds now.")


class CiTicketSerializer(serializers.ModelSerializer):
    class Meta:
        model = Ticket
        fields = ["key", "title", "url", "status", "type"]
        read_only_fields = fields


class CiTicketsResultSerializer(serializers.Serializer):
    tickets = CiTicketSerializer(many=True)


class CiTestRunSerializer(serializers.ModelSerializer):
    release = serializers.CharField(source="release.version", read_only=True)
    environment = serializers.CharField(
        source="environment.name", read_only=True, allow_null=True, default=None
    )
    passed = serializers.IntegerField(read_only=True)
    ok = serializers.BooleanField(read_only=True, help_text="No failures and no errors.")
    failing_tests = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = TestRun
        fields = [
            "id",
            "release",
            "name",
            "environment",
            "total",
            "passed",
            "failures",
            "errors",
            "skipped",
            "duration_seconds",
            "coverage_percent",
            "failing_tests",
            "ok",
            "created_at",
        ]
        read_only_fields = fields


class CiWhoAmISerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["token", "person"])
    name = serializers.CharField()
    project = serializers.CharField(
        allow_null=True, help_text="A token's project; null for a person."
    )
    scopes = serializers.ListField(child=serializers.CharField())
    expires_at = serializers.DateTimeField(allow_null=True)
