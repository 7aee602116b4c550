"""Invitations, provider-group mappings and deactivation through the API: people only.

API tokens are machine credentials of one project; managing people is not
something a pipeline does, so a token is refused (403) whatever its scopes.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from accounts import selectors
from accounts.api.serializers import (
    DeactivateSerializer,
    GroupMappingSerializer,
    InvitationCreateSerializer,
    InvitationSerializer,
    PersonSerializer,
    ProjectSecuritySerializer,
)
from accounts.models import GroupRoleMapping, Invitation, ProjectSecurity
from accounts.permissions import is_staff
from accounts.services.groups import group_mapping_add, group_mapping_remove
from accounts.services.invitations import invitation_create, invitation_resend, invitation_revoke
from accounts.services.people import user_deactivate, user_reactivate
from accounts.services.security import project_security_update
from core.api.input import body_valid
from core.api.schema import error_responses
from core.exceptions import PermissionDenied
from projects.principals import is_token


class PeopleOnly(BasePermission):
    message = "API tokens cannot manage people or sign-in; use a signed-in browser session."

    def has_permission(self, request, view) -> bool:
        if is_token(request.user):
            raise PermissionDenied(self.message, code="token_not_allowed")
        return True


class _PeopleView(GenericAPIView):
    permission_classes = [IsAuthenticated, PeopleOnly]


class InvitationListView(_PeopleView):
    serializer_class = InvitationSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Invitation.objects.none()
        project = selectors.managed_project_get(user=self.request.user, slug=self.kwargs["slug"])
        return selectors.invitation_list(project=project)

    @extend_schema(
        summary="A project's invitations (pending, accepted, expired, revoked)",
        responses={200: InvitationSerializer(many=True), **error_responses(401, 403, 404)},
    )
    def get(self, request, slug):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(InvitationSerializer(page, many=True).data)

    @extend_schema(
        summary="Invite a person by e-mail with one or more roles (the link is e-mailed, never returned)",
        request=InvitationCreateSerializer,
        responses={201: InvitationSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request, slug):
        project = selectors.managed_project_get(user=request.user, slug=slug)
        data = body_valid(InvitationCreateSerializer, request)
        invitation, _ = invitation_create(
            project=project, email=data["email"], roles=data["roles"], actor=request.user
        )
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)


class _InvitationAction(_PeopleView):
    serializer_class = InvitationSerializer

    def _invitation(self, request, slug, pk):
        project = selectors.managed_project_get(user=request.user, slug=slug)
        return selectors.invitation_get(project=project, pk=pk)


class InvitationRevokeView(_InvitationAction):
    @extend_schema(
        summary="Revoke an invitation that was not accepted; its link stops working",
        request=None,
        responses={200: InvitationSerializer, **error_responses(401, 403, 404, 409)},
    )
    def post(self, request, slug, pk):
        invitation = invitation_revoke(
            invitation=self._invitation(request, slug, pk), actor=request.user
        )
        return Response(InvitationSerializer(invitation).data)


class InvitationResendView(_InvitationAction):
    @extend_schema(
        summary="Send an invitation again with a new link and expiry; the earlier link stops working",
        request=None,
        responses={200: InvitationSerializer, **error_responses(401, 403, 404, 409)},
    )
    def post(self, request, slug, pk):
        invitation, _ = invitation_resend(
            invitation=self._invitation(request, slug, pk), actor=request.user
        )
        return Response(InvitationSerializer(invitation).data)


class GroupMappingListView(_PeopleView):
    serializer_class = GroupMappingSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return GroupRoleMapping.objects.none()
        project = selectors.managed_project_get(user=self.request.user, slug=self.kwargs["slug"])
        return selectors.group_mapping_list(project=project)

    @extend_schema(
        summary="Which identity provider groups give which roles in this project",
        responses={200: GroupMappingSerializer(many=True), **error_responses(401, 403, 404)},
    )
    def get(self, request, slug):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(GroupMappingSerializer(page, many=True).data)

    @extend_schema(
        summary="Map a provider group to a role (applied at each sign-in through the provider)",
        request=GroupMappingSerializer,
        responses={201: GroupMappingSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request, slug):
        project = selectors.managed_project_get(user=request.user, slug=slug)
        data = body_valid(GroupMappingSerializer, request)
        mapping = group_mapping_add(
            project=project, group=data["group"], role=data["role"], actor=request.user
        )
        return Response(GroupMappingSerializer(mapping).data, status=status.HTTP_201_CREATED)


class GroupMappingDetailView(_PeopleView):
    serializer_class = GroupMappingSerializer

    @extend_schema(
        summary="Remove a mapping; its role is taken away at the person's next provider sign-in",
        responses={204: None, **error_responses(401, 403, 404)},
    )
    def delete(self, request, slug, pk):
        project = selectors.managed_project_get(user=request.user, slug=slug)
        mapping = selectors.group_mapping_get(project=project, pk=pk)
        group_mapping_remove(mapping=mapping, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PersonDeactivateView(_PeopleView):
    serializer_class = PersonSerializer

    @extend_schema(
        summary="Deactivate a person (staff): sessions end, their API tokens are refused, history stays",
        request=DeactivateSerializer,
        responses={200: PersonSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request, username):
        if not is_staff(request.user):
            raise PermissionDenied("Only a staff administrator may deactivate people.")
        person = selectors.person_get(user=request.user, username=username)
        data = body_valid(DeactivateSerializer, request)
        person = user_deactivate(user=person, actor=request.user, reason=data.get("reason", ""))
        return Response(PersonSerializer(person).data)


class PersonReactivateView(_PeopleView):
    serializer_class = PersonSerializer

    @extend_schema(
        summary="Let a deactivated person sign in again (staff)",
        request=None,
        responses={200: PersonSerializer, **error_responses(401, 403, 404)},
    )
    def post(self, request, username):
        if not is_staff(request.user):
            raise PermissionDenied("Only a staff administrator may reactivate people.")
        person = selectors.person_get(user=request.user, username=username)
        return Response(PersonSerializer(user_reactivate(user=person, actor=request.user)).data)


class ProjectSecurityView(_PeopleView):
    serializer_class = ProjectSecuritySerializer

    def _answer(self, project):
        security = ProjectSecurity.objects.filter(project=project).first()
        value = bool(security and security.require_mfa_for_approvers)
        return Response(ProjectSecuritySerializer({"require_mfa_for_approvers": value}).data)

    @extend_schema(
        summary="The project's sign-in rules",
        responses={200: ProjectSecuritySerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request, slug):
        return self._answer(selectors.managed_project_get(user=request.user, slug=slug))

    @extend_schema(
        summary="Require (or not) a second factor of production and emergency approvers",
        request=ProjectSecuritySerializer,
        responses={200: ProjectSecuritySerializer, **error_responses(400, 401, 403, 404)},
    )
    def put(self, request, slug):
        project = selectors.managed_project_get(user=request.user, slug=slug)
        data = body_valid(ProjectSecuritySerializer, request)
        project_security_update(
            project=project,
            actor=request.user,
            require_mfa_for_approvers=data["require_mfa_for_approvers"],
        )
        return self._answer(project)
