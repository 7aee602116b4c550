"""Audit events in the Django admin: searchable, and read-only for everybody.

The trail is append-only and hash-chained, so no add, change or delete is offered,
whatever permissions a person holds — superusers included.
"""

from __future__ import annotations

from django.contrib import admin

from audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = [
        "seq",
        "created_at",
        "actor_label",
        "action",
        "object_repr",
        "from_state",
        "to_state",
        "project_id",
    ]
    list_filter = ["actor_kind", "action"]
    search_fields = ["action", "actor_label", "object_repr", "object_id", "reason"]
    ordering = ["-seq"]
    date_hierarchy = "created_at"
    actions = None

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
