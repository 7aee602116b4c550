"""Support staff see invitations, provider-group mappings and sign-in rules; the link's hash is hidden."""

from django.contrib import admin

from accounts.models import GroupRoleMapping, Invitation, ProjectSecurity


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "project", "status", "invited_by", "created_at", "expires_at"]
    list_filter = ["project"]
    search_fields = ["email", "project__slug", "invited_by__username"]
    exclude = ["token_hash"]
    readonly_fields = [
        "project",
        "email",
        "roles",
        "invited_by",
        "created_at",
        "expires_at",
        "sent_at",
        "send_count",
        "accepted_at",
        "accepted_by",
        "revoked_at",
        "revoked_by",
    ]

    # Invitations change only through their services (audited): pages and API.
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(GroupRoleMapping)
class GroupRoleMappingAdmin(admin.ModelAdmin):
    list_display = ["project", "group", "role", "created_at"]
    list_filter = ["project", "role"]
    search_fields = ["group", "project__slug"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ProjectSecurity)
class ProjectSecurityAdmin(admin.ModelAdmin):
    list_display = ["project", "require_mfa_for_approvers", "updated_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
