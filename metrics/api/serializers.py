"""Shapes of the metrics API (for the schema; the views build plain dicts)."""

from rest_framework import serializers


class PointSerializer(serializers.Serializer):
    date = serializers.DateField(help_text="The local date the interval starts (site time zone).")
    value = serializers.FloatField(allow_null=True, help_text="The metric's value (see `unit`).")
    figures = serializers.DictField(help_text="The counts behind the value (as in `summary`).")
    url = serializers.CharField(help_text="The drill-down list of the rows behind this point.")


class BandSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="elite, high, medium or low.")
    text = serializers.CharField()
    year = serializers.IntegerField(help_text="The year of the DORA report the band is from.")


class MetricSerializer(serializers.Serializer):
    metric = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    unit = serializers.CharField(help_text="count, seconds, percent or per_release.")
    interval = serializers.CharField()
    environment = serializers.CharField()
    projects = serializers.ListField(child=serializers.CharField())
    start_date = serializers.DateField()
    end_date = serializers.DateField(help_text="Inclusive.")
    time_zone = serializers.CharField()
    value = serializers.FloatField(allow_null=True, help_text="The summary value of the range.")
    summary = serializers.DictField()
    band = BandSerializer(allow_null=True)
    data = PointSerializer(many=True)  # type: ignore[assignment]
    definition = serializers.DictField()
    messages = serializers.ListField(child=serializers.CharField())
    url = serializers.CharField(help_text="The drill-down list behind the summary value.")


class DefinitionSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    unit = serializers.CharField()
    value = serializers.CharField()
    counts = serializers.CharField()
    excludes = serializers.CharField()
    timestamps = serializers.CharField()
    drill = serializers.CharField()
    target = serializers.CharField()
    dora = serializers.BooleanField()


class DrillPageSerializer(serializers.Serializer):
    list = serializers.CharField()
    only = serializers.CharField()
    count = serializers.IntegerField()
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = serializers.ListField(child=serializers.DictField())
    messages = serializers.ListField(child=serializers.CharField())
