"""What config as code remembers beside the product's own rows.

Only the *names* of the environment variables that held each secret at the
last apply, so an export writes the same ``secret_env`` back. Secret values
stay in the monitoring app's rows, where they were before.
"""

from __future__ import annotations

from django.db import models


class SecretName(models.Model):
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="config_secret_names"
    )
    # "production/rollback_hook", "production/health_checks/API/headers/Authorization"
    key = models.CharField(max_length=400)
    variable = models.CharField(max_length=128)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "key"], name="config_secret_name_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.key} ← ${self.variable}"
