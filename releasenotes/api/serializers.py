"""The shapes of the release-notes API (docs/release-notes.md)."""

from __future__ import annotations

from rest_framework import serializers


class TicketRefSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField(allow_blank=True)
    url = serializers.CharField(
        allow_blank=True, help_text="The ticket's link ('' when none is known)."
    )


class EntrySerializer(serializers.Serializer):
    group = serializers.CharField(
        help_text="Breaking changes, New, Improved, Fixed, Performance, Security, Deprecations or Other."
    )
    kind = serializers.CharField(
        help_text="GitLab's changelog kind: added, fixed, changed, deprecated, removed, security, performance or other."
    )
    description = serializers.CharField()
    scope = serializers.CharField(allow_blank=True)
    shas = serializers.ListField(child=serializers.CharField())
    tickets = TicketRefSerializer(many=True)
    upgrade = serializers.CharField(
        allow_blank=True, help_text="How to upgrade, from a breaking-change footer."
    )


class VersionSummarySerializer(serializers.Serializer):
    number = serializers.IntegerField()
    published_at = serializers.DateTimeField()
    published_by = serializers.CharField(source="published_by_label")
    sha256 = serializers.CharField(source="digest")


class VersionSerializer(VersionSummarySerializer):
    markdown = serializers.CharField()
    html = serializers.CharField(help_text="The Markdown rendered and sanitised.")
    written = serializers.CharField(allow_blank=True)
    entries = EntrySerializer(many=True)


class PublishedSerializer(VersionSerializer):
    repeat = serializers.BooleanField(
        help_text="True when the draft was already this version: nothing was published."
    )


class NotesSerializer(serializers.Serializer):
    release = serializers.IntegerField()
    version = serializers.CharField()
    state = serializers.CharField(help_text="none, draft or published.")
    changed = serializers.BooleanField(help_text="Publishing now would make a new version.")
    written = serializers.CharField(allow_blank=True, help_text="The person's part, in Markdown.")
    generated = serializers.CharField(
        allow_blank=True, help_text="The generated part, in Markdown."
    )
    entries = EntrySerializer(many=True)
    markdown = serializers.CharField(help_text="The draft as it would be published now.")
    generated_at = serializers.DateTimeField(allow_null=True)
    latest = VersionSummarySerializer(allow_null=True)


class EditSerializer(serializers.Serializer):
    written = serializers.CharField(allow_blank=True, max_length=50_000, trim_whitespace=False)


class CoveredSerializer(serializers.Serializer):
    version = serializers.CharField()
    title = serializers.CharField()
    state = serializers.CharField(help_text="none, draft or published.")
    number = serializers.IntegerField(
        allow_null=True, help_text="The published version used, if any."
    )


class EnvironmentNotesSerializer(serializers.Serializer):
    environment = serializers.CharField()
    release = serializers.CharField(help_text="The version being deployed.")
    since = serializers.CharField(
        allow_null=True, help_text="The last version that succeeded there, if any."
    )
    covered = CoveredSerializer(many=True)
    truncated = serializers.BooleanField()
    markdown = serializers.CharField()


class MarkdownSerializer(serializers.Serializer):
    markdown = serializers.CharField()


class SettingsSerializer(serializers.Serializer):
    tracker_url_template = serializers.CharField(
        allow_blank=True, max_length=300, help_text="e.g. https://tracker.example.com/browse/{key}"
    )


class LinkSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    label = serializers.CharField(allow_blank=True)  # type: ignore[assignment]  # a field named like Field.label
    prefix = serializers.CharField(help_text="The secret's first characters.")
    created_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)
    active = serializers.BooleanField(source="is_active")


class NewLinkSerializer(LinkSerializer):
    url = serializers.CharField(help_text="The public page; shown only in this answer.")
    secret = serializers.CharField(help_text="Shown only in this answer; only its hash is kept.")


class LinkCreateSerializer(serializers.Serializer):
    label = serializers.CharField(allow_blank=True, required=False, max_length=120, default="")  # type: ignore[assignment]  # a field named like Field.label


class PublicNotesSerializer(serializers.Serializer):
    project = serializers.CharField()
    version = serializers.CharField()
    number = serializers.IntegerField()
    published_at = serializers.DateTimeField()
    markdown = serializers.CharField()
    html = serializers.CharField()
