from __future__ import annotations

from django.db import models


class IdempotencyState(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"


class IdempotencyKey(models.Model):
    """One ``Idempotency-Key`` a caller sent with a POST, and the answer it got.

    The row is inserted *before* the request runs: the unique constraint on
    (scope, key) is what lets exactly one of several concurrent retries
    execute. ``scope`` names the caller ("token:<id>" or "user:<id>"), so two
    pipelines that happen to pick the same key never see each other's answers.
    """

    scope = models.CharField(max_length=40)
    key = models.CharField(max_length=255)
    # SHA-256 of method, path, query string and body: a retry must send the same request.
    fingerprint = models.CharField(max_length=64)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    state = models.CharField(
        max_length=16, choices=IdempotencyState.choices, default=IdempotencyState.IN_PROGRESS
    )
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_content_type = models.CharField(max_length=100, blank=True)
    response_body = models.BinaryField(blank=True, default=b"")
    created_at = models.DateTimeField()
    # When the current execution claimed the key; a claim older than the lock
    # timeout belongs to a process that died, and may be taken over.
    claimed_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "key"], name="idempotency_key_unique_per_scope"
            ),
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_key_created")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key} ({self.state})"
