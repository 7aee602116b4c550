"""The one thing metrics stores: each project's choices about how its numbers are counted."""

from django.conf import settings
from django.db import models


class MetricsSettings(models.Model):
    project = models.OneToOneField(
        "projects.Project", on_delete=models.CASCADE, related_name="metrics_settings"
    )
    # docs/metrics.md, "Deployment rework rate": whether a hotfix release is unplanned work.
    hotfix_is_rework = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = "metrics settings"
        verbose_name_plural = "metrics settings"

    def __str__(self) -> str:
        return f"Metrics settings of project {self.project_id}"


class FirstDeployment(models.Model):
    """Each commit of a project at its first successful production deployment (lead time).

    Derived from deployments and commits, never edited by hand: ``metrics.firsts`` rewrites a
    commit's row whenever a production deployment carrying it succeeds, is rolled back or is
    marked failed, and whenever a release's commits change (releases' registry events);
    ``manage.py metrics_firsts_rebuild`` (and migration 0002) fill it from scratch
    (docs/metrics.md, "How lead time is stored").
    """

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="+")
    sha = models.CharField(max_length=64)
    deployment = models.ForeignKey(
        "releases.Deployment", on_delete=models.CASCADE, related_name="+"
    )
    deployed_at = models.DateTimeField()
    # The earliest commit time any production-deployed release gives the sha (None: unknown).
    committed_at = models.DateTimeField(null=True, blank=True)
    lead_seconds = models.FloatField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "sha"], name="firstdeployment_unique_sha")
        ]
        indexes = [
            # The lead-time aggregates read (project, range) and the seconds only: on PostgreSQL
            # an index-only scan (the seconds are included; SQLite ignores ``include``).
            models.Index(
                fields=["project", "deployed_at"],
                include=["lead_seconds"],
                name="firstdeployment_project_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sha[:12]} first in production at {self.deployed_at:%Y-%m-%d %H:%M}"
