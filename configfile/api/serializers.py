from __future__ import annotations

from rest_framework import serializers

from configfile.parse import MAX_FILE_CHARS

# Secrets a file may name; far more than any project has.
MAX_SECRETS = 200


class ConfigExportSerializer(serializers.Serializer):
    project = serializers.CharField(help_text="The project's slug.")
    yaml = serializers.CharField(help_text="The whole configuration as shipcheck.yml text.")
    sha256 = serializers.CharField(help_text="SHA-256 of the text.")
    fingerprint = serializers.CharField(
        help_text="Digest of the server's configuration; `apply` can expect it."
    )
    secret_variables = serializers.ListField(
        child=serializers.CharField(), help_text="Environment variables the file names."
    )


class ConfigInputSerializer(serializers.Serializer):
    yaml = serializers.CharField(
        max_length=MAX_FILE_CHARS,
        trim_whitespace=False,
        help_text="The file's text, unchanged: the server parses it and reports lines.",
    )
    secrets = serializers.DictField(
        child=serializers.CharField(max_length=10_000, allow_blank=True, trim_whitespace=False),
        required=False,
        default=dict,
        help_text="Values of the environment variables the file names (`secret_env`), read by "
        "the CLI on the machine that runs it. Never stored under these names or logged.",
    )

    def validate_secrets(self, value):
        if len(value) > MAX_SECRETS:
            raise serializers.ValidationError(f"At most {MAX_SECRETS} secrets.")
        return value


class ConfigApplyInputSerializer(ConfigInputSerializer):
    expect = serializers.RegexField(
        r"^[0-9a-f]{64}$",
        required=False,
        allow_blank=True,
        help_text="The fingerprint a plan returned: refuse (409) if the server changed since.",
    )


class ConfigChangeSerializer(serializers.Serializer):
    op = serializers.ChoiceField(choices=["add", "change", "remove"])
    path = serializers.CharField(help_text='Where, e.g. "environments[production].tier".')
    old = serializers.JSONField(required=False, help_text="The server's value (change, remove).")
    new = serializers.JSONField(required=False, help_text="The file's value (add, change).")


class ConfigPlanSerializer(serializers.Serializer):
    sha256 = serializers.CharField(help_text="SHA-256 of the file's text.")
    fingerprint = serializers.CharField(
        help_text="Plan: the server's state the plan compared against (pass it to apply as "
        "`expect`). Apply: the state after applying."
    )
    changes = ConfigChangeSerializer(many=True)
    applied = serializers.BooleanField(help_text="Whether anything was written.")
