"""Shapes of the flags API: flags, rollout plans with their steps, and the plans' inputs."""

from __future__ import annotations

from rest_framework import serializers

from flags.choices import FlagSource, Stickiness
from flags.models import Flag, RolloutPlan, RolloutStep


class FlagSerializer(serializers.ModelSerializer):
    environment = serializers.CharField(source="environment.name", read_only=True)
    group_id = serializers.CharField(source="effective_group_id", read_only=True)
    beta_testers = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Flag
        fields = [
            "id",
            "key",
            "environment",
            "description",
            "enabled",
            "rollout",
            "stickiness",
            "group_id",
            "beta_testers",
            "updated_at",
        ]
        read_only_fields = fields


class FlagInputSerializer(serializers.Serializer):
    key = serializers.CharField(max_length=100, required=False)
    description = serializers.CharField(max_length=300, required=False, allow_blank=True)
    enabled = serializers.BooleanField(required=False)
    rollout = serializers.IntegerField(min_value=0, max_value=100, required=False)
    stickiness = serializers.ChoiceField(choices=Stickiness.choices, required=False)
    group_id = serializers.CharField(max_length=100, required=False, allow_blank=True)
    beta_testers = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, max_length=500
    )
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class StepSerializer(serializers.ModelSerializer):
    position = serializers.SerializerMethodField()
    hold_seconds = serializers.SerializerMethodField()

    class Meta:
        model = RolloutStep
        fields = [
            "position",
            "percent",
            "hold_seconds",
            "status",
            "reason",
            "started_at",
            "ends_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_position(self, step: RolloutStep) -> int:
        return step.position + 1

    def get_hold_seconds(self, step: RolloutStep) -> float:
        return step.hold.total_seconds()


class PlanSerializer(serializers.ModelSerializer):
    release = serializers.IntegerField(source="release_id", read_only=True)
    environment = serializers.CharField(source="environment.name", read_only=True)
    flag = serializers.CharField(source="flag_key", read_only=True)
    flag_source = serializers.ChoiceField(
        choices=FlagSource.choices, source="source", read_only=True
    )
    current_step = serializers.SerializerMethodField()
    steps = StepSerializer(many=True, read_only=True)

    class Meta:
        model = RolloutPlan
        fields = [
            "id",
            "release",
            "environment",
            "flag_source",
            "flag",
            "status",
            "reason",
            "current_percent",
            "current_step",
            "auto_advance",
            "disable_on_fail",
            "check_names",
            "drift",
            "steps",
            "created_at",
        ]
        read_only_fields = fields

    def get_current_step(self, plan: RolloutPlan) -> int | None:
        return plan.current_position + 1 if plan.current_position >= 0 else None


class PlanInputSerializer(serializers.Serializer):
    environment = serializers.CharField(max_length=40)
    flag = serializers.CharField(max_length=100)
    # Where the flag lives: Shipcheck itself or the environment's Unleash.
    flag_source = serializers.ChoiceField(choices=FlagSource.choices, default=FlagSource.SHIPCHECK)
    steps = serializers.ListField(child=serializers.DictField(), required=False, max_length=20)
    auto_advance = serializers.BooleanField(default=True)
    disable_on_fail = serializers.BooleanField(default=True)
    checks = serializers.ListField(
        child=serializers.CharField(max_length=80), required=False, max_length=50
    )
    rollback_hook_url = serializers.CharField(max_length=500, required=False, allow_blank=True)
    rollback_hook_secret = serializers.CharField(
        max_length=200, required=False, allow_blank=True, write_only=True
    )


class PlanReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)
