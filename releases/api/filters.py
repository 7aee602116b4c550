from __future__ import annotations

import django_filters
from django.db.models import Q

from releases.choices import ReleaseStatus, ReleaseType
from releases.models import Release


class ReleaseFilterSet(django_filters.FilterSet):
    project = django_filters.CharFilter(field_name="project__slug", help_text="Project slug.")
    status = django_filters.ChoiceFilter(choices=ReleaseStatus.choices)
    type = django_filters.ChoiceFilter(choices=ReleaseType.choices)
    q = django_filters.CharFilter(method="filter_q", help_text="Text in the version or the title.")

    class Meta:
        model = Release
        fields = ["project", "status", "type", "q"]

    def filter_q(self, queryset, name, value):
        value = value.strip()[:100]
        if not value:
            return queryset
        return queryset.filter(Q(version__icontains=value) | Q(title__icontains=value))
