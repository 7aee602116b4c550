from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from projects.models import Environment, Project
from projects.permissions import roles_for


class EnvironmentSerializer(serializers.ModelSerializer):
    is_production = serializers.BooleanField(read_only=True)

    class Meta:
        model = Environment
        fields = ["name", "display_name", "tier", "order", "is_production"]


class ProjectSerializer(serializers.ModelSerializer):
    environments = EnvironmentSerializer(many=True, read_only=True)
    my_roles = serializers.SerializerMethodField(
        help_text="The caller's roles in this project (empty for an API token)."
    )

    class Meta:
        model = Project
        fields = ["slug", "name", "description", "created_at", "environments", "my_roles"]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_my_roles(self, project: Project) -> list[str]:
        request = self.context.get("request")
        return sorted(roles_for(request.user, project)) if request else []
