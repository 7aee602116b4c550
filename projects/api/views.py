from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets

from core.api.schema import error_responses
from projects.api.serializers import ProjectSerializer
from projects.models import Environment
from projects.selectors import project_list


@extend_schema_view(
    list=extend_schema(
        summary="Projects visible to the caller, with their environments",
        responses={200: ProjectSerializer(many=True), **error_responses(401, 403)},
    ),
    retrieve=extend_schema(
        summary="One project by slug",
        responses={200: ProjectSerializer, **error_responses(401, 403, 404)},
    ),
)
class ProjectViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ProjectSerializer
    lookup_field = "slug"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"

    def get_queryset(self):
        return (
            project_list(user=self.request.user)
            .order_by("name", "pk")
            .prefetch_related(
                Prefetch("environments", queryset=Environment.objects.order_by("order"))
            )
        )
