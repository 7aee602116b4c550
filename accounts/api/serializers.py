from __future__ import annotations

from rest_framework import serializers

from accounts.models import GroupRoleMapping, Invitation
from projects.choices import Role
from projects.principals import Person


class InvitationSerializer(serializers.ModelSerializer):
    status = serializers.CharField(
        read_only=True, help_text="pending, accepted, expired or revoked"
    )
    roles = serializers.ListField(child=serializers.ChoiceField(choices=Role.choices))
    invited_by: serializers.SlugRelatedField[Person] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    accepted_by: serializers.SlugRelatedField[Person] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = Invitation
        fields = [
            "id",
            "email",
            "roles",
            "status",
            "invited_by",
            "created_at",
            "expires_at",
            "sent_at",
            "send_count",
            "accepted_at",
            "accepted_by",
            "revoked_at",
        ]
        read_only_fields = fields


class InvitationCreateSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=Role.choices),
        min_length=1,
        max_length=len(Role.values),
    )


class GroupMappingSerializer(serializers.ModelSerializer):
    class Meta:
        model = GroupRoleMapping
        fields = ["id", "group", "role", "created_at"]
        read_only_fields = ["id", "created_at"]


class DeactivateSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class PersonSerializer(serializers.Serializer):
    username = serializers.CharField()
    email = serializers.EmailField()
    is_active = serializers.BooleanField()
    is_staff = serializers.BooleanField()


class ProjectSecuritySerializer(serializers.Serializer):
    require_mfa_for_approvers = serializers.BooleanField(
        help_text="Production deployment and emergency approvals need an approver with a second factor."
    )
