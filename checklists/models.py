"""Checklist templates (versioned, per project or shipped) and each release's own copy.

A template is a named family of versions. Only a draft version is edited;
publishing freezes it. A release copies the newest published version into its
``Checklist`` at creation, so editing a template never changes a release that
is already under way.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from checklists.choices import ITEM_ROLES, PHASE_TIER, ItemStatus, StepPhase, VersionStatus
from projects.choices import Role


class ChecklistTemplate(models.Model):
    """A family of template versions. ``project`` is empty for the templates shipped with Shipcheck."""

    project = models.ForeignKey(
        "projects.Project",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="checklist_templates",
    )
    slug = models.SlugField(max_length=60)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    # Release types for which this template is the default; a project's own
    # template wins over a shipped one for the same type.
    release_types = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["project_id", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "slug"],
                condition=Q(project__isnull=False),
                name="checklist_template_unique_slug",
            ),
            models.UniqueConstraint(
                fields=["slug"],
                condition=Q(project__isnull=True),
                name="checklist_template_unique_shipped_slug",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("checklists:template_detail", args=[self.pk])

    @property
    def is_shipped(self) -> bool:
        return self.project_id is None


class TemplateVersion(models.Model):
    template = models.ForeignKey(
        ChecklistTemplate, on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField()
    status = models.CharField(
        max_length=16, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    change_note = models.CharField(max_length=300, blank=True)
    # SHA-256 of the content, so re-installing shipped defaults adds a version only when they changed.
    content_hash = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    # Not a column: the draft's steps, set by the template API before it serialises a draft.
    step_rows: list[StepTemplate]

    class Meta:
        ordering = ["template_id", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "number"], name="template_version_unique_number"
            ),
            models.UniqueConstraint(
                fields=["template"],
                condition=Q(status=VersionStatus.DRAFT),
                name="template_version_one_draft",
            ),
            models.CheckConstraint(
                condition=Q(status__in=VersionStatus.values), name="template_version_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template} v{self.number}" + (" (draft)" if self.is_draft else "")

    @property
    def is_draft(self) -> bool:
        return self.status == VersionStatus.DRAFT


class StepTemplate(models.Model):
    version = models.ForeignKey(TemplateVersion, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    expected_output = models.TextField(blank=True)
    phase = models.CharField(
        max_length=24, choices=StepPhase.choices, default=StepPhase.BEFORE_PRODUCTION
    )

    class Meta:
        ordering = ["version_id", "position", "id"]

    def __str__(self) -> str:
        return self.title


class ItemTemplate(models.Model):
    step = models.ForeignKey(StepTemplate, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField(default=0)
    text = models.CharField(max_length=300)
    required = models.BooleanField(default=True)
    role = models.CharField(max_length=32, choices=ITEM_ROLES, default=Role.RELEASE_MANAGER)
    evidence_required = models.BooleanField(default=False)

    class Meta:
        ordering = ["step_id", "position", "id"]

    def __str__(self) -> str:
        return self.text


class Checklist(models.Model):
    """A release's own copy of one template version."""

    release = models.OneToOneField(
        "releases.Release", on_delete=models.CASCADE, related_name="checklist"
    )
    template = models.ForeignKey(
        ChecklistTemplate,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="checklists",
    )
    template_version = models.ForeignKey(
        TemplateVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="checklists"
    )
    # Copied so the release record stays readable even if the template is deleted.
    template_name = models.CharField(max_length=120)
    version_number = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.template_name} v{self.version_number}"

    def get_absolute_url(self) -> str:
        return reverse("checklists:release", args=[self.release_id])


class Step(models.Model):
    checklist = models.ForeignKey(Checklist, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    expected_output = models.TextField(blank=True)
    actual_output = models.TextField(blank=True)
    actual_output_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actual_output_at = models.DateTimeField(null=True, blank=True)
    phase = models.CharField(
        max_length=24, choices=StepPhase.choices, default=StepPhase.BEFORE_PRODUCTION
    )
    # Not a column: the step's items, set by checklists.selectors.checklist_gate_steps.
    gate_items: list[Item]

    class Meta:
        ordering = ["checklist_id", "position", "id"]
        indexes = [models.Index(fields=["checklist", "phase"])]

    def __str__(self) -> str:
        return self.title

    @property
    def gated_tier(self) -> str | None:
        return PHASE_TIER.get(self.phase)


class Item(models.Model):
    # ``checklist`` repeats ``step.checklist`` so that a release's items load in one query.
    checklist = models.ForeignKey(Checklist, on_delete=models.CASCADE, related_name="items")
    step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField(default=0)
    text = models.CharField(max_length=300)
    required = models.BooleanField(default=True)
    role = models.CharField(max_length=32, choices=ITEM_ROLES, default=Role.RELEASE_MANAGER)
    evidence_required = models.BooleanField(default=False)
    is_adhoc = models.BooleanField(
        default=False, help_text="Added to this release only, not from the template."
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=16, choices=ItemStatus.choices, default=ItemStatus.OPEN)
    # Who ticked it or marked it not applicable, and when; empty while open.
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    evidence = models.CharField(max_length=500, blank=True)
    na_reason = models.TextField(blank=True)
    # Ticked by the release manager for a role they do not hold (QA, an engineer …): that role,
    # shown beside the tick; empty when the person holding the item's role ticked it.
    on_behalf_of = models.CharField(max_length=32, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["step_id", "position", "id"]
        indexes = [
            models.Index(fields=["checklist", "status"]),
            models.Index(fields=["status", "role"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ItemStatus.values), name="checklist_item_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status=ItemStatus.OPEN, completed_at__isnull=True)
                | (~Q(status=ItemStatus.OPEN) & Q(completed_at__isnull=False)),
                name="checklist_item_completed_at_matches_status",
            ),
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def on_behalf_label(self) -> str:
        """The role the release manager ticked this item for ("QA"), or ""."""
        return str(dict(ITEM_ROLES).get(self.on_behalf_of, self.on_behalf_of))

    @property
    def evidence_is_link(self) -> bool:
        return self.evidence.startswith(("http://", "https://"))
