from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from releases.choices import (
    DEPLOYMENT_ACTIVE_STATES,
    DeploymentStatus,
    DeploymentStrategy,
    ReleaseStatus,
    ReleaseType,
)

if TYPE_CHECKING:
    from projects.models import Environment


class Release(models.Model):
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="releases"
    )
    version = models.CharField(max_length=64)
    version_major = models.PositiveIntegerField(default=0)
    version_minor = models.PositiveIntegerField(default=0)
    version_patch = models.PositiveIntegerField(default=0)
    type = models.CharField(max_length=16, choices=ReleaseType.choices, default=ReleaseType.MINOR)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    notes = models.TextField(blank=True, help_text="Release notes, in Markdown.")
    rollback_plan = models.TextField(blank=True, help_text="How to undo this release, in Markdown.")
    release_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="managed_releases"
    )
    # The person accountable for creating it: whoever created it in the browser or the API,
    # or, for a release a pipeline created, the person who owned the pipeline's token then.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The API token that created it (a pipeline); null for releases people created.
    created_by_token = models.ForeignKey(
        "projects.ApiToken",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="releases_created",
    )
    # The token's name at creation, kept should the token row ever go.
    created_by_token_name = models.CharField(max_length=80, blank=True)
    target_date = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=ReleaseStatus.choices, default=ReleaseStatus.PLANNED
    )
    # The artifact that approvals are given for; changing it invalidates them.
    artifact_version = models.CharField(max_length=120, blank=True)
    commit_sha = models.CharField(max_length=64, blank=True)
    # Set by the approvals app when an emergency approval lets a hotfix skip staging.
    is_emergency = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Not columns: ``releases.selectors.release_with_pipeline`` loads them for the release page
    # (its active environments in order, and every deployment, newest first).
    pipeline_environments: list[Environment]
    all_deployments: list[Deployment]

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "version"], name="release_unique_version"),
        ]
        indexes = [
            models.Index(fields=["project", "status", "-created_at"]),
            models.Index(fields=["status", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.version} · {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("releases:detail", args=[self.pk])

    @property
    def created_by_pipeline(self) -> bool:
        return bool(self.created_by_token_id or self.created_by_token_name)

    @property
    def author_ids(self) -> frozenset[int]:
        """Who counts as the release's author for separation of duties (docs/approvals.md).

        A person's release: whoever created it. A pipeline's release: the token's
        owner and the release manager the pipeline named (nobody typed it in, so
        both answer for what it contains).
        """
        ids = {self.created_by_id}
        if self.created_by_pipeline:
            ids.add(self.release_manager_id)
        return frozenset(pk for pk in ids if pk is not None)


class Deployment(models.Model):
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="deployments")
    environment = models.ForeignKey(
        "projects.Environment", on_delete=models.PROTECT, related_name="deployments"
    )
    status = models.CharField(
        max_length=16, choices=DeploymentStatus.choices, default=DeploymentStatus.PENDING
    )
    strategy = models.CharField(
        max_length=16, choices=DeploymentStrategy.choices, default=DeploymentStrategy.ALL_AT_ONCE
    )
    deployed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deployments",
    )
    deployed_by_label = models.CharField(max_length=200, blank=True)
    artifact_version = models.CharField(max_length=120, blank=True)
    commit_sha = models.CharField(max_length=64, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Set when post-deploy monitoring (or a person) confirms the deployment is healthy.
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Belt and braces for the "one deployment at a time" gate.
            models.UniqueConstraint(
                fields=["environment"],
                condition=Q(status__in=sorted(DEPLOYMENT_ACTIVE_STATES)),
                name="deployment_one_active_per_environment",
            ),
        ]
        indexes = [
            models.Index(fields=["release", "environment", "status"]),
            models.Index(fields=["environment", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.release.version} → {self.environment}"


class Ticket(models.Model):
    """A ticket in the release's scope (Jira, GitHub issue …)."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="tickets")
    key = models.CharField(max_length=64)
    title = models.CharField(max_length=300, blank=True)
    url = models.URLField(max_length=500, blank=True)
    status = models.CharField(max_length=64, blank=True)
    # The tracker's issue type as it says it ("Bug", "Story", "Improvement" …); release notes
    # place a ticket no commit mentions by it.
    type = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key"]
        constraints = [models.UniqueConstraint(fields=["release", "key"], name="ticket_unique_key")]

    def __str__(self) -> str:
        return self.key


class Commit(models.Model):
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="commits")
    sha = models.CharField(max_length=64)
    message = models.TextField(blank=True)
    author = models.CharField(max_length=200, blank=True)
    committed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-committed_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["release", "sha"], name="commit_unique_sha")]
        # A commit is looked up by sha across releases: the delivery metrics' first
        # production deployment of each commit (metrics/firsts.py).
        indexes = [models.Index(fields=["sha"], name="commit_sha")]

    def __str__(self) -> str:
        return self.sha[:12]


class TestRun(models.Model):
    """Results of one test suite run for a release, e.g. parsed from JUnit XML."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="test_runs")
    environment = models.ForeignKey(
        "projects.Environment", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    name = models.CharField(max_length=200)
    total = models.PositiveIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    duration_seconds = models.FloatField(default=0)
    failing_tests = models.JSONField(default=list, blank=True)
    coverage_percent = models.FloatField(null=True, blank=True)
    recorded_by_label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name}: {self.passed}/{self.total}"

    @property
    def passed(self) -> int:
        return max(self.total - self.failures - self.errors - self.skipped, 0)

    @property
    def ok(self) -> bool:
        return self.failures == 0 and self.errors == 0
