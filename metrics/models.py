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
