"""The Django admin for support staff: find people, projects, roles, environments and tokens.

Projects, environments and roles change through the settings pages (or the API), which
call the services that check the rules and write the audit trail; here they are searchable
and read-only, with admin actions that call the same services. Token hashes are never shown
as fields and secrets are never stored, so there is nothing secret to show.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.urls import reverse
from django.utils.html import format_html

from core.exceptions import DomainError
from projects.models import ApiToken, Environment, Membership, Project
from projects.services.memberships import membership_revoke
from projects.services.projects import project_archive
from projects.services.tokens import api_token_revoke


class ReadOnlyAdmin(admin.ModelAdmin):
    """Searchable and readable; changes go through the services (actions, settings pages)."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = readonly_fields = ("project", "role", "created_at")
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


User = get_user_model()


class ShipcheckUserAdmin(UserAdmin):
    list_display = [
        "username",
        "email",
        "first_name",
        "last_name",
        "is_active",
        "is_staff",
        "last_login",
    ]
    list_filter = ["is_active", "is_staff", "is_superuser", "memberships__project"]
    search_fields = ["username", "email", "first_name", "last_name"]
    inlines = [MembershipInline]


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, ShipcheckUserAdmin)


class EnvironmentInline(admin.TabularInline):
    model = Environment
    fields = readonly_fields = ("order", "name", "display_name", "tier", "retired_at")
    extra = 0
    can_delete = False
    ordering = ["order"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Project)
class ProjectAdmin(ReadOnlyAdmin):
    list_display = ["name", "slug", "created_at", "archived_at", "settings_link"]
    list_filter = [("archived_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "slug", "description"]
    readonly_fields = [
        "name",
        "slug",
        "description",
        "created_at",
        "archived_at",
        "archived_reason",
        "settings_link",
    ]
    inlines = [EnvironmentInline]
    actions = ["archive_selected"]

    @admin.display(description="Settings")
    def settings_link(self, obj: Project) -> str:
        return format_html(
            '<a href="{}">Open the settings pages</a>',
            reverse("projects:settings", args=[obj.slug]),
        )

    @admin.action(description="Archive the selected projects (audited)")
    def archive_selected(self, request, queryset):
        done = 0
        for project in queryset:
            try:
                project_archive(
                    project=project, actor=request.user, reason="Archived in the admin."
                )
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{project}: {exc.message}", messages.WARNING)
        if done:
            self.message_user(request, f"{done} project(s) archived.", messages.SUCCESS)


@admin.register(Environment)
class EnvironmentAdmin(ReadOnlyAdmin):
    list_display = ["name", "display_name", "project", "tier", "order", "retired_at"]
    list_filter = ["tier", ("retired_at", admin.EmptyFieldListFilter), "project"]
    search_fields = ["name", "display_name", "project__name", "project__slug"]
    list_select_related = ["project"]
    ordering = ["project__name", "order"]


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ["user", "project", "role", "created_at"]
    list_filter = ["role", "project"]
    search_fields = ["user__username", "user__email", "project__name", "project__slug"]
    list_select_related = ["user", "project"]
    actions = ["revoke_selected"]

    @admin.action(description="Take the selected roles away (audited)")
    def revoke_selected(self, request, queryset):
        done = 0
        for membership in queryset.select_related("user", "project"):
            try:
                membership_revoke(
                    project=membership.project,
                    user=membership.user,
                    role=membership.role,
                    actor=request.user,
                    reason="Removed in the admin.",
                )
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{membership}: {exc.message}", messages.WARNING)
        if done:
            self.message_user(request, f"{done} role(s) taken away.", messages.SUCCESS)


class TokenActiveFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", "Active"), ("revoked", "Revoked")]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = [
        "name",
        "project",
        "masked",
        "scopes",
        "created_by",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = [TokenActiveFilter, "project"]
    search_fields = ["name", "prefix", "project__name", "project__slug", "created_by__username"]
    list_select_related = ["project", "created_by"]
    # ``key_hash`` is left out on purpose: neither editable nor shown.
    fields = readonly_fields = (
        "name",
        "project",
        "masked",
        "scopes",
        "created_by",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    actions = ["revoke_selected"]

    @admin.display(description="Token")
    def masked(self, obj: ApiToken) -> str:
        return f"shp_{obj.prefix}_…"

    @admin.action(description="Revoke the selected tokens (audited)")
    def revoke_selected(self, request, queryset):
        done = 0
        for token in queryset.filter(revoked_at__isnull=True).select_related("project"):
            api_token_revoke(token=token, actor=request.user)
            done += 1
        self.message_user(request, f"{done} token(s) revoked.", messages.SUCCESS)
