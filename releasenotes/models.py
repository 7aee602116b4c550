"""A release's notes: the project's tracker setting, the draft, the frozen versions, secret links."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class NotesSettings(models.Model):
    """What release notes need to know about a project (one row per project, made on first save)."""

    project = models.OneToOneField(
        "projects.Project", on_delete=models.CASCADE, related_name="notes_settings"
    )
    # Where a ticket key links when the ticket came without a URL, e.g.
    # https://tracker.example.com/browse/{key}
    tracker_url_template = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Release-note settings of {self.project}"


class NotesDraft(models.Model):
    """The notes being written for a release: a generated part and the person's part, kept apart.

    ``generated`` is rewritten by every regeneration; ``written`` only by a person.
    ``previous_generated`` keeps the generated text the last regeneration replaced, so the
    page can show what changed.
    """

    release = models.OneToOneField(
        "releases.Release", on_delete=models.CASCADE, related_name="notes_draft"
    )
    written = models.TextField(blank=True, help_text="The person's part, in Markdown.")
    generated = models.TextField(blank=True)
    entries = models.JSONField(default=list, blank=True)
    previous_generated = models.TextField(blank=True)
    generated_at = models.DateTimeField(null=True, blank=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Draft notes of {self.release_id}"


class NotesVersion(models.Model):
    """A published version of a release's notes. Never changed after it is written."""

    release = models.ForeignKey(
        "releases.Release", on_delete=models.CASCADE, related_name="notes_versions"
    )
    number = models.PositiveIntegerField()
    markdown = models.TextField()
    written = models.TextField(blank=True)
    generated = models.TextField(blank=True)
    entries = models.JSONField(default=list, blank=True)
    # sha256 of ``markdown``: the audit event names it, so a copy can be checked against the trail.
    digest = models.CharField(max_length=64)
    published_at = models.DateTimeField()
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    published_by_label = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["release_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["release", "number"], name="notes_version_unique"),
        ]

    def __str__(self) -> str:
        return f"Notes v{self.number} of {self.release_id}"


class NotesLink(models.Model):
    """A secret link to a release's published notes for readers without an account.

    Only the sha256 of the secret is stored; the secret is shown once, when the link is made.
    """

    release = models.ForeignKey(
        "releases.Release", on_delete=models.CASCADE, related_name="notes_links"
    )
    label = models.CharField(max_length=120, blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    # The secret's first characters, so people can tell their links apart.
    prefix = models.CharField(max_length=12)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Notes link {self.prefix}… of {self.release_id}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
