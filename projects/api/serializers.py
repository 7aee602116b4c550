from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from projects.choices import Role, Tier, TokenScope
from projects.models import ApiToken, Environment, Membership, Project
from projects.permissions import roles_for


class EnvironmentSerializer(serializers.ModelSerializer):
    is_production = serializers.BooleanField(read_only=True)
    is_retired = serializers.BooleanField(
        read_only=True, help_text="Retired: out of the promotion order; its history stays."
    )

    class Meta:
        model = Environment
        fields = [
            "name",
            "display_name",
            "tier",
            "order",
            "is_production",
            "is_retired",
            "retired_at",
            "retired_reason",
        ]


class ProjectSerializer(serializers.ModelSerializer):
    environments = EnvironmentSerializer(
        many=True,
        read_only=True,
        source="active_environments",
        help_text="The promotion order: the project's active environments, first to last.",
    )
    is_archived = serializers.BooleanField(read_only=True)
    my_roles = serializers.SerializerMethodField(
        help_text="The caller's roles in this project (empty for an API token)."
    )

    class Meta:
        model = Project
        fields = [
            "slug",
            "name",
            "description",
            "created_at",
            "is_archived",
            "archived_at",
            "archived_reason",
            "environments",
            "my_roles",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_my_roles(self, project: Project) -> list[str]:
        request = self.context.get("request")
        return sorted(roles_for(request.user, project)) if request else []


class EnvironmentSpecSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=40, help_text="Short name used in URLs, e.g. `qa`.")
    display_name = serializers.CharField(max_length=80, required=False, allow_blank=True)
    tier = serializers.ChoiceField(choices=Tier.choices)


class ProjectCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    slug = serializers.CharField(
        max_length=60,
        required=False,
        allow_blank=True,
        help_text="Lower-case letters, digits and hyphens; made from the name when left out.",
    )
    description = serializers.CharField(required=False, allow_blank=True, max_length=10000)
    environments = EnvironmentSpecSerializer(
        many=True,
        required=False,
        help_text="The environments in promotion order; left out: dev → staging → production.",
    )


class ProjectUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120, required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10000)


class ChangeReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, help_text="Kept in the audit trail."
    )


class EnvironmentCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=40)
    display_name = serializers.CharField(max_length=80, required=False, allow_blank=True)
    tier = serializers.ChoiceField(choices=Tier.choices)
    position = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=1000,
        help_text="1-based place in the promotion order; left out: last.",
    )


class EnvironmentUpdateSerializer(serializers.Serializer):
    display_name = serializers.CharField(max_length=80, required=False)
    tier = serializers.ChoiceField(choices=Tier.choices, required=False)


class EnvironmentReorderSerializer(serializers.Serializer):
    names = serializers.ListField(
        child=serializers.CharField(max_length=40),
        max_length=200,
        help_text="Every active environment's name exactly once, in the new promotion order.",
    )


class MemberSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username", read_only=True)
    email = serializers.CharField(source="user.email", read_only=True)
    full_name = serializers.CharField(source="user.get_full_name", read_only=True)
    role_display = serializers.CharField(source="get_role_display", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user", "email", "full_name", "role", "role_display", "created_at"]


class MemberChangeSerializer(serializers.Serializer):
    user = serializers.CharField(
        max_length=254, help_text="The person's username or e-mail address."
    )
    role = serializers.ChoiceField(choices=Role.choices)
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, help_text="Kept in the audit trail."
    )


class TokenSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", read_only=True, default=None)
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "scopes",
            "created_by",
            "created_at",
            "expires_at",
            "revoked_at",
            "last_used_at",
            "is_active",
        ]


class TokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(
        max_length=80, help_text="Where the token is used, e.g. `gitlab-ci`."
    )
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=TokenScope.choices), min_length=1, max_length=10
    )
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


class TokenCreatedSerializer(TokenSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text="The token itself, `shp_...`: shown in this answer only, never again.",
    )

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "secret"]
