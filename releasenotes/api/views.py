"""Release notes over HTTP: the draft and its actions, versions, environments, CHANGELOG.md,
the tracker setting, secret links and the public read behind one.

Each write asks the caller's right (``notes_authorize``, the services' own check) before it
reads the body; missing and invisible objects are both 404.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.input import body_valid
from core.api.schema import error_responses
from core.exceptions import NotFound
from core.markdown import render_markdown
from projects.choices import Role
from projects.permissions import can_admin_project, can_manage_release, role_refusal
from releasenotes import services
from releasenotes.api.serializers import (
    EditSerializer,
    EnvironmentNotesSerializer,
    LinkCreateSerializer,
    LinkSerializer,
    MarkdownSerializer,
    NewLinkSerializer,
    NotesSerializer,
    PublicNotesSerializer,
    PublishedSerializer,
    SettingsSerializer,
    VersionSerializer,
    VersionSummarySerializer,
)
from releasenotes.models import NotesLink, NotesVersion
from releasenotes.selectors import (
    changelog_markdown,
    draft_changed,
    draft_markdown,
    draft_of,
    environment_notes,
    latest_version,
    link_list,
    link_resolve,
    project_for_notes,
    tracker_template,
    version_get,
    version_list,
)
from releases.selectors import environment_get, release_get

READ = error_responses(401, 403, 404)
WRITE = error_responses(400, 401, 403, 404, 409)


def _notes_data(release) -> dict:
    draft = draft_of(release)
    latest = latest_version(release)
    state = "published" if latest is not None else ("draft" if draft is not None else "none")
    return {
        "release": release.pk,
        "version": release.version,
        "state": state,
        "changed": draft_changed(release, draft, latest),
        "written": draft.written if draft is not None else release.notes,
        "generated": draft.generated if draft is not None else "",
        "entries": draft.entries if draft is not None else [],
        "markdown": draft_markdown(release, draft),
        "generated_at": draft.generated_at if draft is not None else None,
        "latest": latest,
    }


def _version_data(version) -> dict:
    return {
        "number": version.number,
        "published_at": version.published_at,
        "published_by_label": version.published_by_label,
        "digest": version.digest,
        "markdown": version.markdown,
        "html": str(render_markdown(version.markdown)),
        "written": version.written,
        "entries": version.entries,
    }


class NotesView(APIView):
    @extend_schema(
        summary="A release's notes",
        description="The draft (the person's part, the generated part, the whole Markdown) and the latest published version.",
        responses={200: NotesSerializer, **READ},
    )
    def get(self, request, release_id: int):
        release = release_get(user=request.user, pk=release_id)
        return Response(NotesSerializer(_notes_data(release)).data)


class RegenerateView(APIView):
    @extend_schema(
        summary="Regenerate the notes",
        description="Rewrites the generated part from the release's commits and tickets; the person's part stays.",
        request=None,
        responses={200: NotesSerializer, **WRITE},
    )
    def post(self, request, release_id: int):
        release = release_get(user=request.user, pk=release_id)
        services.notes_regenerate(release=release, actor=request.user)
        return Response(NotesSerializer(_notes_data(release)).data)


class EditView(APIView):
    @extend_schema(
        summary="Write the person's part",
        description="Replaces the person's part of the draft (Markdown, at most 50,000 characters).",
        request=EditSerializer,
        responses={200: NotesSerializer, **WRITE},
    )
    def post(self, request, release_id: int):
        release = release_get(user=request.user, pk=release_id)
        services.notes_authorize(release=release, actor=request.user)
        data = body_valid(EditSerializer, request)
        services.notes_edit(release=release, actor=request.user, written=data["written"])
        return Response(NotesSerializer(_notes_data(release)).data)


class PublishView(APIView):
    @extend_schema(
        summary="Publish the notes",
        description="Freezes the draft as the next version (201). When the draft already is the latest "
        "version nothing is published: 200 with `repeat: true`.",
        request=None,
        responses={201: PublishedSerializer, 200: PublishedSerializer, **WRITE},
    )
    def post(self, request, release_id: int):
        release = release_get(user=request.user, pk=release_id)
        result = services.notes_publish(release=release, actor=request.user)
        body = PublishedSerializer(
            {**_version_data(result.version), "repeat": not result.created}
        ).data
        return Response(
            body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        )


class VersionListView(ListAPIView):
    serializer_class = VersionSummarySerializer
    queryset = NotesVersion.objects.none()

    @extend_schema(
        summary="Published versions of a release's notes",
        responses={200: VersionSummarySerializer(many=True), **READ},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        release = release_get(user=self.request.user, pk=self.kwargs["release_id"])
        return version_list(release=release)


class VersionDetailView(APIView):
    @extend_schema(summary="One published version", responses={200: VersionSerializer, **READ})
    def get(self, request, release_id: int, number: int):
        release = release_get(user=request.user, pk=release_id)
        version = version_get(release=release, number=number)
        return Response(VersionSerializer(_version_data(version)).data)


class EnvironmentNotesView(APIView):
    @extend_schema(
        summary="Notes for deploying a release to an environment",
        description="Every release since the last one that succeeded in the environment, each with its "
        "latest published notes (else its draft).",
        responses={200: EnvironmentNotesSerializer, **READ},
    )
    def get(self, request, release_id: int, environment: str):
        release = release_get(user=request.user, pk=release_id)
        env = environment_get(release=release, name_or_id=environment)
        notes = environment_notes(release=release, environment=env)
        data = {
            "environment": env.name,
            "release": release.version,
            "since": notes.since.version if notes.since is not None else None,
            "covered": [
                {"version": c.version, "title": c.title, "state": c.state, "number": c.number}
                for c in notes.covered
            ],
            "truncated": notes.truncated,
            "markdown": notes.markdown,
        }
        return Response(EnvironmentNotesSerializer(data).data)


class ChangelogView(APIView):
    @extend_schema(
        summary="The project's CHANGELOG.md",
        description="Keep a Changelog layout across the published notes of the project's releases.",
        responses={200: MarkdownSerializer, **READ},
    )
    def get(self, request, slug: str):
        project = project_for_notes(user=request.user, slug=slug)
        return Response({"markdown": changelog_markdown(project=project)})


class SettingsView(APIView):
    @extend_schema(summary="Where ticket keys link", responses={200: SettingsSerializer, **READ})
    def get(self, request, slug: str):
        project = project_for_notes(user=request.user, slug=slug)
        return Response({"tracker_url_template": tracker_template(project)})

    @extend_schema(
        summary="Set where ticket keys link",
        description="Project admins only. `{key}` exactly once; empty removes the template.",
        request=SettingsSerializer,
        responses={200: SettingsSerializer, **WRITE},
    )
    def put(self, request, slug: str):
        project = project_for_notes(user=request.user, slug=slug)
        if not can_admin_project(request.user, project):
            raise role_refusal(Role.ADMIN, to="change where ticket keys link")
        data = body_valid(SettingsSerializer, request)
        row = services.tracker_set(
            project=project, actor=request.user, template=data["tracker_url_template"]
        )
        return Response({"tracker_url_template": row.tracker_url_template})


def _manage(request, release_id):
    release = release_get(user=request.user, pk=release_id)
    services.notes_authorize(release=release, actor=request.user)
    return release


class LinkListView(APIView):
    @extend_schema(
        summary="Secret links of a release's notes",
        responses={200: LinkSerializer(many=True), **READ},
    )
    def get(self, request, release_id: int):
        release = release_get(user=request.user, pk=release_id)
        if not can_manage_release(request.user, release):
            raise role_refusal(
                Role.RELEASE_MANAGER,
                Role.ADMIN,
                to="see the secret links of these notes",
                release_manager_of_release=True,
            )
        return Response(LinkSerializer(link_list(release=release), many=True).data)

    @extend_schema(
        summary="Make a secret link",
        description="The answer holds the link's URL and secret once; only a hash is kept.",
        request=LinkCreateSerializer,
        responses={201: NewLinkSerializer, **WRITE},
    )
    def post(self, request, release_id: int):
        release = _manage(request, release_id)
        data = body_valid(LinkCreateSerializer, request)
        made = services.link_create(
            release=release, actor=request.user, label=data.get("label", "")
        )
        from django.urls import reverse

        url = request.build_absolute_uri(reverse("releasenotes:public", args=[made.secret]))
        body = {**LinkSerializer(made.link).data, "url": url, "secret": made.secret}
        return Response(body, status=status.HTTP_201_CREATED)


class LinkRevokeView(APIView):
    @extend_schema(
        summary="Revoke a secret link", request=None, responses={200: LinkSerializer, **WRITE}
    )
    def post(self, request, release_id: int, link_id: int):
        release = _manage(request, release_id)
        link = (
            NotesLink.objects.filter(release=release, pk=link_id).select_related("release").first()
        )
        if link is None:
            raise NotFound("No such link.")
        return Response(LinkSerializer(services.link_revoke(link=link, actor=request.user)).data)


class PublicNotesView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Published notes behind a secret link",
        description="No sign-in: the secret is the credential. 404 for a wrong or revoked secret.",
        auth=[],
        responses={200: PublicNotesSerializer, **error_responses(404)},
        parameters=[OpenApiParameter("secret", str, OpenApiParameter.PATH)],
    )
    def get(self, request, secret: str):
        link = link_resolve(secret)
        release = link.release
        version = version_get(release=release, number=None)
        data = {
            "project": release.project.name,
            "version": release.version,
            "number": version.number,
            "published_at": version.published_at,
            "markdown": version.markdown,
            "html": str(render_markdown(version.markdown)),
        }
        response = Response(PublicNotesSerializer(data).data)
        response["Cache-Control"] = "private, no-store"
        response["Referrer-Policy"] = "no-referrer"
        return response
