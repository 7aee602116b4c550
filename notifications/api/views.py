"""The notifications API: subscribers, channels, the caller's preferences, the delivery log.

The same services as the pages. Order of the questions (docs/api.md): can the caller
see the project (404), may they change it (403: people only, project admins and release
managers), then the body (400).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from core.api.input import body_valid, require_person
from core.api.schema import error_responses
from core.exceptions import ValidationFailed
from notifications import selectors, services
from notifications.api.serializers import (
    ChannelChangeSerializer,
    ChannelCreatedSerializer,
    ChannelInputSerializer,
    ChannelSerializer,
    DeliverySerializer,
    PreferenceInputSerializer,
    PreferenceSerializer,
    SubscriberInputSerializer,
    SubscriberSerializer,
)
from notifications.choices import DeliveryStatus
from notifications.permissions import can_set_preferences

PROJECT = OpenApiParameter(
    "project", str, OpenApiParameter.PATH, description="The project's slug, e.g. payments."
)
ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The object's id.")


@extend_schema_view(
    get=extend_schema(
        summary="A project's subscribers (every group)",
        parameters=[PROJECT],
        responses={200: SubscriberSerializer(many=True), **error_responses(401, 403, 404)},
    ),
    post=extend_schema(
        summary="Add a member (by username) or an address to a subscriber group",
        parameters=[PROJECT],
        request=SubscriberInputSerializer,
        responses={201: SubscriberSerializer, **error_responses(400, 401, 403, 404, 409)},
    ),
)
class SubscriberCollectionView(GenericAPIView):
    serializer_class = SubscriberSerializer
    filter_backends: list = []

    def get(self, request, project: str):
        proj = selectors.project_for(user=request.user, slug=project)
        page = self.paginate_queryset(selectors.subscriber_list(project=proj))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def post(self, request, project: str):
        require_person(request.user, "subscribers")
        proj = selectors.project_for(user=request.user, slug=project)
        services.config_authorize(project=proj, actor=request.user)
        data = body_valid(SubscriberInputSerializer, request)
        user = None
        if data.get("username"):
            user = get_user_model().objects.filter(username=data["username"]).first()
            if user is None:
                raise ValidationFailed(
                    "No such person.", details={"username": "No person has this username."}
                )
        subscriber = services.subscriber_add(
            project=proj,
            actor=request.user,
            audience=data["audience"],
            user=user,
            email=data.get("email", ""),
            name=data.get("name", ""),
        )
        return Response(SubscriberSerializer(subscriber).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    delete=extend_schema(
        summary="Remove a subscriber from its group",
        parameters=[ID],
        responses={204: None, **error_responses(401, 403, 404)},
    )
)
class SubscriberDetailView(GenericAPIView):
    serializer_class = SubscriberSerializer

    def delete(self, request, pk: int):
        require_person(request.user, "subscribers")
        subscriber = selectors.subscriber_get(user=request.user, pk=pk)
        services.subscriber_remove(subscriber=subscriber, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    get=extend_schema(
        summary="A project's channels (secrets are never answered)",
        parameters=[PROJECT],
        responses={200: ChannelSerializer(many=True), **error_responses(401, 403, 404)},
    ),
    post=extend_schema(
        summary="Add a channel: e-mail, Slack, Teams or a signed webhook",
        description="A webhook without a `secret` gets a new one, answered this once in "
        "`secret`. Webhook URLs that are malformed or point at internal addresses are refused.",
        parameters=[PROJECT],
        request=ChannelInputSerializer,
        responses={201: ChannelCreatedSerializer, **error_responses(400, 401, 403, 404, 409)},
    ),
)
class ChannelCollectionView(GenericAPIView):
    serializer_class = ChannelSerializer
    filter_backends: list = []

    def get(self, request, project: str):
        proj = selectors.project_for(user=request.user, slug=project)
        page = self.paginate_queryset(selectors.channel_list(project=proj))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def post(self, request, project: str):
        require_person(request.user, "channels")
        proj = selectors.project_for(user=request.user, slug=project)
        services.config_authorize(project=proj, actor=request.user)
        data = body_valid(ChannelInputSerializer, request)
        saved = services.channel_create(project=proj, actor=request.user, **data)
        return Response(
            ChannelCreatedSerializer(saved.channel, context={"secret": saved.secret}).data,
            status=status.HTTP_201_CREATED,
        )


@extend_schema_view(
    get=extend_schema(
        summary="One channel",
        parameters=[ID],
        responses={200: ChannelSerializer, **error_responses(401, 403, 404)},
    ),
    patch=extend_schema(
        summary="Change a channel, turn it on or off, or make a new secret",
        description="`enabled: true` turns back on a channel that a 410 turned off; then send "
        "its dead letters again. `new_secret: true` answers the new secret this once.",
        parameters=[ID],
        request=ChannelChangeSerializer,
        responses={200: ChannelCreatedSerializer, **error_responses(400, 401, 403, 404, 409)},
    ),
    delete=extend_schema(
        summary="Remove a channel (its delivery log stays)",
        parameters=[ID],
        responses={204: None, **error_responses(401, 403, 404)},
    ),
)
class ChannelDetailView(GenericAPIView):
    serializer_class = ChannelSerializer

    def get(self, request, pk: int):
        return Response(ChannelSerializer(selectors.channel_get(user=request.user, pk=pk)).data)

    def patch(self, request, pk: int):
        require_person(request.user, "channels")
        channel = selectors.channel_get(user=request.user, pk=pk)
        services.config_authorize(project=channel.project, actor=request.user)
        data = body_valid(ChannelChangeSerializer, request)
        saved = services.channel_update(channel=channel, actor=request.user, **data)
        return Response(
            ChannelCreatedSerializer(saved.channel, context={"secret": saved.secret}).data
        )

    def delete(self, request, pk: int):
        require_person(request.user, "channels")
        channel = selectors.channel_get(user=request.user, pk=pk)
        services.channel_delete(channel=channel, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    get=extend_schema(
        summary="Your own notification preferences in a project",
        parameters=[PROJECT],
        responses={200: PreferenceSerializer(many=True), **error_responses(401, 403, 404)},
    ),
    post=extend_schema(
        summary="Set how you hear one event (or, with an empty key, every event)",
        description="`mode`: `email` (at once), `digest` (daily), `app` (in the app only), "
        "`off`; empty removes the choice.",
        parameters=[PROJECT],
        request=PreferenceInputSerializer,
        responses={200: PreferenceSerializer(many=True), **error_responses(400, 401, 403, 404)},
    ),
)
class PreferenceView(GenericAPIView):
    serializer_class = PreferenceSerializer
    filter_backends: list = []
    pagination_class = None

    def get(self, request, project: str):
        require_person(request.user, "preferences")
        proj = selectors.project_for(user=request.user, slug=project)
        return Response(
            PreferenceSerializer(
                selectors.preference_list(project=proj, user=request.user), many=True
            ).data
        )

    def post(self, request, project: str):
        require_person(request.user, "preferences")
        proj = selectors.project_for(user=request.user, slug=project)
        if not can_set_preferences(request.user, proj):
            services.preference_set(project=proj, actor=request.user, event_key="", mode="")
        data = body_valid(PreferenceInputSerializer, request)
        services.preference_set(project=proj, actor=request.user, **data)
        return Response(
            PreferenceSerializer(
                selectors.preference_list(project=proj, user=request.user), many=True
            ).data
        )


STATUS = OpenApiParameter(
    "status",
    str,
    OpenApiParameter.QUERY,
    enum=list(DeliveryStatus.values),
    required=False,
    description="Only deliveries in this state (`dead`: the dead letters).",
)
RELEASE = OpenApiParameter(
    "release", str, OpenApiParameter.QUERY, required=False, description="A release's version."
)


@extend_schema_view(
    get=extend_schema(
        summary="A project's delivery log: who was told what, when, and how it went",
        parameters=[PROJECT, STATUS, RELEASE],
        responses={200: DeliverySerializer(many=True), **error_responses(400, 401, 403, 404)},
    )
)
class DeliveryCollectionView(GenericAPIView):
    serializer_class = DeliverySerializer
    filter_backends: list = []

    def get(self, request, project: str):
        proj = selectors.project_for(user=request.user, slug=project)
        wanted = request.query_params.get("status", "")
        if wanted and wanted not in DeliveryStatus.values:
            raise ValidationFailed(
                f"Unknown status '{wanted[:30]}'.",
                details={"status": f"Choose among {', '.join(DeliveryStatus.values)}."},
            )
        release = None
        version = request.query_params.get("release", "")
        if version:
            release = proj.releases.filter(version=version[:60]).first()
            if release is None:
                raise ValidationFailed(
                    f"No release {version[:60]} in this project.",
                    details={"release": "No such version."},
                )
        qs = selectors.delivery_list(project=proj, status=wanted, release=release)
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


@extend_schema_view(
    get=extend_schema(
        summary="One delivery",
        parameters=[ID],
        responses={200: DeliverySerializer, **error_responses(401, 403, 404)},
    )
)
class DeliveryDetailView(GenericAPIView):
    serializer_class = DeliverySerializer

    def get(self, request, pk: int):
        return Response(DeliverySerializer(selectors.delivery_get(user=request.user, pk=pk)).data)


@extend_schema_view(
    post=extend_schema(
        summary="Send a dead letter again (same delivery id)",
        description="Refused (409) unless the delivery is dead and its channel is on.",
        parameters=[ID],
        request=None,
        responses={202: DeliverySerializer, **error_responses(401, 403, 404, 409)},
    )
)
class DeliveryResendView(GenericAPIView):
    serializer_class = DeliverySerializer

    def post(self, request, pk: int):
        require_person(request.user, "deliveries")
        delivery = selectors.delivery_get(user=request.user, pk=pk)
        delivery = services.delivery_resend(delivery=delivery, actor=request.user)
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
