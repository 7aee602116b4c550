"""Shapes of the notifications API (docs/notifications.md). Secrets are write-only."""

from __future__ import annotations

from rest_framework import serializers

from notifications.choices import AUDIENCE_CHOICES, ChannelKind, DeliveryStatus, PreferenceMode
from notifications.models import Channel, Delivery, Preference, Subscriber


class SubscriberSerializer(serializers.ModelSerializer):
    username = serializers.SerializerMethodField()
    address = serializers.SerializerMethodField()
    display_name = serializers.SerializerMethodField()

    class Meta:
        model = Subscriber
        fields = [
            "id",
            "audience",
            "username",
            "address",
            "display_name",
            "unsubscribed_at",
            "created_at",
        ]

    def get_username(self, obj: Subscriber) -> str | None:
        return obj.user.username if obj.user is not None else None

    def get_address(self, obj: Subscriber) -> str:
        return obj.address

    def get_display_name(self, obj: Subscriber) -> str:
        return obj.label


class SubscriberInputSerializer(serializers.Serializer):
    audience = serializers.ChoiceField(choices=AUDIENCE_CHOICES)
    username = serializers.CharField(required=False, allow_blank=True, max_length=150)
    email = serializers.EmailField(required=False, allow_blank=True)
    name = serializers.CharField(required=False, allow_blank=True, max_length=120)

    def validate(self, attrs: dict) -> dict:
        if not attrs.get("username") and not attrs.get("email"):
            raise serializers.ValidationError({"email": "Give a member's username or an address."})
        return attrs


class ChannelSerializer(serializers.ModelSerializer):
    secret_set = serializers.SerializerMethodField(help_text="Whether a signing secret is stored.")
    dead_letters = serializers.SerializerMethodField()

    class Meta:
        model = Channel
        fields = [
            "id",
            "kind",
            "name",
            "url",
            "audiences",
            "event_keys",
            "is_release_channel",
            "enabled",
            "disabled_reason",
            "disabled_at",
            "secret_set",
            "dead_letters",
            "created_at",
        ]

    def get_secret_set(self, obj: Channel) -> bool:
        return bool(obj.secret)

    def get_dead_letters(self, obj: Channel) -> int:
        return int(getattr(obj, "dead_count", 0) or 0)


class ChannelCreatedSerializer(ChannelSerializer):
    secret = serializers.SerializerMethodField(
        help_text="The signing secret, answered this once (webhooks); empty otherwise."
    )

    class Meta(ChannelSerializer.Meta):
        fields = [*ChannelSerializer.Meta.fields, "secret"]

    def get_secret(self, obj: Channel) -> str:
        return str(self.context.get("secret", ""))


class ChannelInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ChannelKind.choices)
    name = serializers.CharField(max_length=80)
    url = serializers.CharField(required=False, allow_blank=True, max_length=500)
    audiences = serializers.ListField(
        child=serializers.ChoiceField(choices=AUDIENCE_CHOICES), min_length=1
    )
    event_keys = serializers.ListField(
        child=serializers.CharField(max_length=80), required=False, default=list
    )
    is_release_channel = serializers.BooleanField(required=False, default=False)
    secret = serializers.CharField(
        required=False, allow_blank=True, max_length=200, write_only=True
    )


class ChannelChangeSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=80)
    url = serializers.CharField(required=False, allow_blank=True, max_length=500)
    audiences = serializers.ListField(
        child=serializers.ChoiceField(choices=AUDIENCE_CHOICES), min_length=1, required=False
    )
    event_keys = serializers.ListField(child=serializers.CharField(max_length=80), required=False)
    is_release_channel = serializers.BooleanField(required=False)
    enabled = serializers.BooleanField(required=False)
    new_secret = serializers.BooleanField(
        required=False, default=False, help_text="Make a new signing secret (answered once)."
    )


class PreferenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Preference
        fields = ["event_key", "mode", "updated_at"]


class PreferenceInputSerializer(serializers.Serializer):
    event_key = serializers.CharField(
        allow_blank=True, max_length=80, help_text="An event key; empty for every event."
    )
    mode = serializers.ChoiceField(
        choices=[("", "Remove the choice"), *PreferenceMode.choices], allow_blank=True
    )


class DeliverySerializer(serializers.ModelSerializer):
    delivery_id = serializers.UUIDField(source="uid", read_only=True)
    release = serializers.SerializerMethodField()
    channel = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=DeliveryStatus.choices, read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "delivery_id",
            "event_id",
            "event_key",
            "release",
            "channel",
            "kind",
            "destination",
            "audience",
            "subject",
            "status",
            "attempts",
            "last_status_code",
            "last_error",
            "next_attempt_at",
            "delivered_at",
            "created_at",
        ]

    def get_release(self, obj: Delivery) -> str | None:
        return obj.release.version if obj.release_id and obj.release else None

    def get_channel(self, obj: Delivery) -> str | None:
        return obj.channel.name if obj.channel_id and obj.channel else None
