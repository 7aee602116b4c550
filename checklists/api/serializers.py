"""Input and output shapes of the checklists API.

Inputs check form only (types, choices); the services apply every rule
(who may tick, evidence, gates), so the browser and the API answer alike.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from rest_framework import serializers

from checklists.choices import ITEM_ROLES, MOVE_DIRECTIONS, StepPhase
from checklists.models import ChecklistTemplate, Item, TemplateVersion
from projects.choices import Role
from projects.models import Project

# --- Output: a release's checklist ---------------------------------------------------


class ItemSerializer(serializers.ModelSerializer):
    step = serializers.IntegerField(source="step_id", read_only=True)
    completed_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="Who ticked it or marked it not applicable.",
    )
    added_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    evidence_is_link = serializers.BooleanField(read_only=True)
    on_behalf_of = serializers.CharField(
        read_only=True,
        help_text='The role the release manager ticked this item for ("qa"), or "" when the '
        "holder of the item's role ticked it.",
    )

    class Meta:
        model = Item
        fields = [
            "id", "step", "position", "text", "required", "role", "evidence_required", "is_adhoc",
            "added_by", "status", "completed_by", "completed_at", "note", "evidence", "evidence_is_link",
            "na_reason", "on_behalf_of",
        ]  # fmt: skip
        read_only_fields = fields


class BoardItemSerializer(serializers.Serializer):
    item = ItemSerializer(read_only=True)
    can_tick = serializers.BooleanField(read_only=True, help_text="The caller may tick it now.")
    can_untick = serializers.BooleanField(read_only=True)
    can_mark_na = serializers.BooleanField(read_only=True)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        item = data.pop("item")
        return {**item, **data}


class BoardStepSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="step.pk")
    number = serializers.IntegerField()
    title = serializers.CharField(source="step.title")
    description = serializers.CharField(source="step.description")
    phase = serializers.ChoiceField(choices=StepPhase.choices, source="step.phase")
    expected_output = serializers.CharField(source="step.expected_output")
    actual_output = serializers.CharField(source="step.actual_output")
    complete = serializers.BooleanField(
        source="is_complete", help_text="Every required item is done or N/A."
    )
    blocking = serializers.BooleanField(source="is_blocking")
    overdue = serializers.BooleanField(source="is_overdue")
    gate_passed = serializers.BooleanField(
        help_text="The release already entered the environment this step gates; ticks are locked."
    )
    required_total = serializers.IntegerField()
    required_resolved = serializers.IntegerField()
    items = BoardItemSerializer(many=True)


class BoardGateSerializer(serializers.Serializer):
    tier = serializers.CharField()
    environment = serializers.CharField(source="label")
    open = serializers.BooleanField(source="is_open")
    missing_items = serializers.SerializerMethodField()

    def get_missing_items(self, gate) -> list[str]:
        return [item.text for step in gate.steps for item in step.missing]


class ChecklistSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="checklist.pk")
    release = serializers.IntegerField(source="release.pk")
    release_version = serializers.CharField(source="release.version")
    template = serializers.CharField(source="checklist.template_name")
    template_id = serializers.IntegerField(source="checklist.template_id", allow_null=True)
    template_version = serializers.IntegerField(source="checklist.version_number")
    total = serializers.IntegerField()
    resolved = serializers.IntegerField(help_text="Items done or not applicable.")
    percent = serializers.IntegerField()
    gates = BoardGateSerializer(many=True)
    steps = BoardStepSerializer(many=True)


# --- Output: templates -----------------------------------------------------------------


class TemplateVersionSerializer(serializers.ModelSerializer):
    published_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = TemplateVersion
        fields = ["number", "status", "change_note", "published_at", "published_by", "created_at"]
        read_only_fields = fields


class ItemTemplateSerializer(serializers.Serializer):
    text = serializers.CharField()
    # The stubs type Field.required as a bool; DRF lets a field take that name.
    required = serializers.BooleanField()  # type: ignore[assignment]
    role = serializers.CharField()
    evidence_required = serializers.BooleanField()


class StepTemplateSerializer(serializers.Serializer):
    title = serializers.CharField()
    description = serializers.CharField()
    expected_output = serializers.CharField()
    phase = serializers.ChoiceField(choices=StepPhase.choices)
    items = ItemTemplateSerializer(many=True)


class TemplateVersionContentSerializer(TemplateVersionSerializer):
    steps = StepTemplateSerializer(many=True, source="content")

    class Meta(TemplateVersionSerializer.Meta):
        fields = [*TemplateVersionSerializer.Meta.fields, "steps"]
        read_only_fields = fields


class TemplateSerializer(serializers.ModelSerializer):
    project: serializers.SlugRelatedField[Project] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True
    )
    shipped = serializers.BooleanField(source="is_shipped", read_only=True)
    versions = serializers.SerializerMethodField()

    class Meta:
        model = ChecklistTemplate
        fields = [
            "id",
            "project",
            "shipped",
            "slug",
            "name",
            "description",
            "release_types",
            "versions",
        ]
        read_only_fields = fields

    def get_versions(self, template) -> list[dict]:
        visible = [
            v for v in template.versions.all() if not v.is_draft or self.context.get("show_drafts")
        ]
        return list(TemplateVersionSerializer(visible, many=True).data)


class TemplateDetailSerializer(TemplateSerializer):
    latest = TemplateVersionContentSerializer(
        read_only=True,
        allow_null=True,
        help_text="The newest published version with its steps and items: what new releases copy.",
    )

    class Meta(TemplateSerializer.Meta):
        fields = [*TemplateSerializer.Meta.fields, "latest"]
        read_only_fields = fields


# --- Input -------------------------------------------------------------------------------


class TickSerializer(serializers.Serializer):
    evidence = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="An http(s) link or a short reference such as a CI run id; required by some items.",
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")


class UntickSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class NotApplicableSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="Why this item does not apply to this release.")


class AdhocItemSerializer(serializers.Serializer):
    text = serializers.CharField()
    role = serializers.ChoiceField(choices=ITEM_ROLES, default=Role.RELEASE_MANAGER)
    # The stubs type Field.required as a bool; DRF lets a field take that name.
    required = serializers.BooleanField(default=True)  # type: ignore[assignment]
    evidence_required = serializers.BooleanField(default=False)


class StepOutputSerializer(serializers.Serializer):
    actual_output = serializers.CharField(allow_blank=True)


# --- Template editing (project admins) -----------------------------------------------------


class DraftItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    position = serializers.IntegerField()
    text = serializers.CharField()
    role = serializers.CharField(help_text="The project role that ticks it.")
    # The stubs type Field.required as a bool; DRF lets a field take that name.
    required = serializers.BooleanField()  # type: ignore[assignment]
    evidence_required = serializers.BooleanField()


class DraftStepSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    position = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField()
    expected_output = serializers.CharField()
    phase = serializers.ChoiceField(choices=StepPhase.choices)
    items = DraftItemSerializer(many=True, source="items.all")


class DraftSerializer(serializers.Serializer):
    """A version with the ids of its steps and items, which the editing endpoints take."""

    template = serializers.IntegerField(source="template_id")
    number = serializers.IntegerField()
    status = serializers.CharField()
    steps = DraftStepSerializer(many=True, source="step_rows")


class TemplateCreateSerializer(serializers.Serializer):
    project = serializers.CharField(help_text="The project's slug.")
    name = serializers.CharField(allow_blank=True, trim_whitespace=False)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    release_types = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        default=list,
        help_text="New releases of these types start from this template (taken from the "
        "project's other templates).",
    )
    copy_from = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Id of a template (this project's or shipped) whose newest published version "
        "the draft starts from; left out: an empty draft.",
    )


class TemplateUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    release_types = serializers.ListField(child=serializers.CharField(), required=False)


class PublishSerializer(serializers.Serializer):
    change_note = serializers.CharField(required=False, allow_blank=True, default="")


class StepInputSerializer(serializers.Serializer):
    title = serializers.CharField(required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    expected_output = serializers.CharField(required=False, allow_blank=True)
    phase = serializers.CharField(required=False, allow_blank=True)


class ItemInputSerializer(serializers.Serializer):
    text = serializers.CharField(required=False, allow_blank=True)
    role = serializers.CharField(required=False, allow_blank=True)
    # The stubs type Field.required as a bool; DRF lets a field take that name.
    required = serializers.BooleanField(required=False)  # type: ignore[assignment]
    evidence_required = serializers.BooleanField(required=False)


class MoveSerializer(serializers.Serializer):
    direction = serializers.ChoiceField(choices=MOVE_DIRECTIONS)
