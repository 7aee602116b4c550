"""Shapes of the audit API's answers (everything here only reads)."""

from __future__ import annotations

from rest_framework import serializers

from audit.chain import HASHED_FIELDS, LINK_FIELDS
from audit.models import AuditEvent, format_timestamp


class AuditEventSerializer(serializers.ModelSerializer):
    """One event with every hashed field as hashed, its hash and its project link."""

    created_at = serializers.SerializerMethodField()

    class Meta:
        model = AuditEvent
        # every hashed field, the hash and the project link, in the export's column order
        fields = [*HASHED_FIELDS, "hash", *LINK_FIELDS]
        read_only_fields = fields

    def get_created_at(self, event: AuditEvent) -> str:
        return format_timestamp(event.created_at)


class AuditEventPageSerializer(serializers.Serializer):
    results = AuditEventSerializer(many=True)
    next = serializers.CharField(
        allow_null=True, help_text="Older events (keyset cursor); null on the last page."
    )
    previous = serializers.CharField(
        allow_null=True, help_text="Newer events; null on the first page."
    )


class CheckpointSerializer(serializers.Serializer):
    format = serializers.IntegerField(help_text="2: signed with Ed25519 and HMAC; 1: HMAC only.")
    scope = serializers.CharField(help_text="'all' or 'project:<id>'.")
    seq = serializers.IntegerField(help_text="Sequence number of the head event.")
    project_seq = serializers.IntegerField(allow_null=True)
    head_hash = serializers.CharField(
        help_text="The head event's hash (scope all) or project hash (a project)."
    )
    hash = serializers.CharField(help_text="Same as head_hash (the name format 1 used).")
    created_at = serializers.CharField()
    key_id = serializers.CharField()
    signature = serializers.CharField(help_text="HMAC-SHA256 under the signing key.")
    public_key_id = serializers.CharField(allow_null=True)
    ed25519_signature = serializers.CharField(
        allow_null=True, help_text="Ed25519 signature; verify with the public key (docs/audit.md)."
    )


class HistoryRowSerializer(serializers.Serializer):
    project = serializers.CharField()
    release = serializers.CharField()
    release_id = serializers.IntegerField()
    deployment_id = serializers.IntegerField()
    environment = serializers.CharField()
    deployed_at = serializers.DateTimeField()
    status = serializers.CharField()
    emergency = serializers.BooleanField()
    requested_by = serializers.CharField(allow_blank=True)
    release_manager = serializers.CharField()
    deployed_by = serializers.CharField(allow_blank=True)
    approvers = serializers.CharField(allow_blank=True)
    approvals_before = serializers.IntegerField()
    qa_signoff = serializers.CharField(allow_blank=True)
    scope_approval = serializers.CharField(allow_blank=True)
    tests = serializers.CharField(allow_blank=True)
    tests_ok = serializers.BooleanField()
    verified_at = serializers.DateTimeField(allow_null=True)
    findings = serializers.CharField(
        allow_blank=True, help_text="Separation-of-duties findings; empty if none."
    )


class HistorySerializer(serializers.Serializer):
    filters = serializers.DictField()
    count = serializers.IntegerField(help_text="Production deployments in the period, all pages.")
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    deployments = HistoryRowSerializer(
        many=True, help_text="This page's deployments, oldest first."
    )
