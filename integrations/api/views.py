"""The pipeline API: /api/v1/ci/...

Releases are addressed by version, because that is what a pipeline knows.
An API token acts on its own project; a person signed in with a session
names the project (``project`` in the body, or ``?project=`` on reads).
Each write checks the caller's right first (the token's scopes, then the
project and release it is about and the predicate the service asks), and
only then validates the body and calls one service: a caller who may not do
it is refused (403, or 404 for what it cannot see) whatever the body holds.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.deprecation import USED_KEY, deprecation_mark
from core.api.input import body_slug, body_valid
from core.exceptions import NotFound, RoleNotHeld, ValidationFailed
from integrations import selectors, services
from integrations.api import examples
from integrations.api.parsers import SafeJSONParser
from integrations.api.schema import ci_errors
from integrations.api.serializers import (
    CiCommitsInput,
    CiCommitsResultSerializer,
    CiDeploymentReportInput,
    CiReleaseCreateInput,
    CiTestRunInput,
    CiTestRunSerializer,
    CiTicketsInput,
    CiTicketsResultSerializer,
    CiWhoAmISerializer,
)
from integrations.gitlog import gitlog_parse
from integrations.permissions import can_record_test_results, test_results_refusal
from projects.api.permissions import (
    require_release_creation,
    require_token_scopes,
    require_writing_role_somewhere,
)
from projects.choices import TokenScope
from projects.permissions import READ_ONLY_REFUSAL, holds_writing_role
from projects.principals import is_token
from releases.api.serializers import DeploymentSerializer, GateReportSerializer, ReleaseSerializer
from releases.exceptions import GateBlocked
from releases.gates import gate_evaluate
from releases.models import Commit
from releases.services import release_authorize, release_commits_add, release_tickets_add

VERSION_PARAM = OpenApiParameter(
    "version",
    str,
    OpenApiParameter.PATH,
    description="The release's semantic version, with or without a leading v (1.3.0, v1.3.0).",
)
ENVIRONMENT_PARAM = OpenApiParameter(
    "environment", str, OpenApiParameter.PATH, description="Environment name, e.g. production."
)
PROJECT_QUERY_PARAM = OpenApiParameter(
    "project",
    str,
    OpenApiParameter.QUERY,
    required=False,
    description="Project slug; required for a person, implicit for an API token.",
)


def _require_scopes(request, *scopes: str) -> None:
    require_token_scopes(request.user, *scopes)


def _valid(serializer_class, request) -> dict:
    return body_valid(serializer_class, request)


class CiReleaseViewSet(viewsets.GenericViewSet):
    """Releases, their scope, deployments, test results and gates, for pipelines."""

    lookup_field = "version"
    lookup_value_regex = r"[^/]+"
    parser_classes = [SafeJSONParser]
    filter_backends: list = []
    pagination_class = None
    serializer_class = ReleaseSerializer
    token_read_scopes: tuple[str, ...] = (TokenScope.READ,)

    def _project(self, slug: str | None = None):
        if slug is None:
            slug = self.request.query_params.get("project")
        return selectors.ci_project_resolve(principal=self.request.user, slug=slug)

    def _release(self, project, version: str):
        return selectors.ci_release_get(project=project, version=version)

    def _project_first(self, request):
        """The project a write is about, found before its body is validated; None if none is named.

        Reads only the body's ``project``. A person naming none (or no slug) is
        refused at once if they may change nothing anywhere; otherwise the body's
        validation names the missing field. A person who holds only the auditor
        role in the project is refused before anything else is looked at.
        """
        slug = body_slug(request, "project")
        if slug is None and not is_token(request.user):
            require_writing_role_somewhere(request.user)
            return None
        project = self._project(slug or "")
        if not is_token(request.user) and not holds_writing_role(request.user, project):
            raise RoleNotHeld(READ_ONLY_REFUSAL)
        return project

    def _target(self, request, version: str, action: str | None):
        """(project, release) of a write to one release, the caller's right on it checked first.

        ``action``: the ``releases.services.release_authorize`` right it needs
        (None: the caller checks its own predicate). ``(None, None)`` when a person
        names no project; ``_project_and_release`` finds them after validation.
        """
        project = self._project_first(request)
        if project is None:
            return None, None
        release = self._release(project, version)
        if action is not None:
            release_authorize(release=release, actor=request.user, action=action)
        return project, release

    def _project_and_release(self, data: dict, version: str, project, release):
        if project is None:
            project = self._project(data.get("project", ""))
            release = self._release(project, version)
        return project, release

    @extend_schema(
        operation_id="ci_release_create",
        summary="Create a release by version, or get the existing one",
        description="Idempotent by project and version: 201 when the release is created, 200 with the "
        "release unchanged when that version already exists. Token scopes: read, releases.",
        request=CiReleaseCreateInput,
        responses={201: ReleaseSerializer, 200: ReleaseSerializer, **ci_errors(400, 401, 403, 404)},
        examples=[examples.RELEASE_CREATE, examples.RELEASE_OUT],
    )
    def create(self, request):
        _require_scopes(request, TokenScope.READ, TokenScope.RELEASES)
        project = self._project_first(request)
        if project is not None:
            require_release_creation(request.user, project)
        data = _valid(CiReleaseCreateInput, request)
        slug = data.pop("project", "")
        project = project or self._project(slug)
        release, created = services.ci_release_ensure(project=project, actor=request.user, **data)
        body = ReleaseSerializer(release, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        operation_id="ci_release_retrieve",
        summary="One release by version",
        description="Token scope: read.",
        parameters=[VERSION_PARAM, PROJECT_QUERY_PARAM],
        responses={200: ReleaseSerializer, **ci_errors(400, 401, 403, 404)},
        examples=[examples.RELEASE_OUT],
    )
    def retrieve(self, request, version=None):
        release = self._release(self._project(), version)
        return Response(ReleaseSerializer(release, context={"request": request}).data)

    @extend_schema(
        operation_id="ci_release_commits",
        summary="Attach commits, as a list or as raw git log output",
        description="Send `commits` (a list) or `git_log`: the output of\n\n"
        "    git log --format='%x1e%H%x1f%an <%ae>%x1f%aI%x1f%B' v1.2.0..v1.3.0\n\n"
        "Commits the release already holds are skipped. Token scopes: read, releases.",
        parameters=[VERSION_PARAM],
        request=CiCommitsInput,
        responses={200: CiCommitsResultSerializer, **ci_errors(400, 401, 403, 404, 409)},
        examples=[examples.COMMITS_LIST, examples.COMMITS_GIT_LOG, examples.COMMITS_OUT],
    )
    @action(detail=True, methods=["post"])
    def commits(self, request, version=None):
        _require_scopes(request, TokenScope.READ, TokenScope.RELEASES)
        project, release = self._target(request, version, "commits")
        data = _valid(CiCommitsInput, request)
        project, release = self._project_and_release(data, version, project, release)
        commits = gitlog_parse(data["git_log"]) if "git_log" in data else data["commits"]
        added = release_commits_add(release=release, commits=commits, actor=request.user)
        total = Commit.objects.filter(release=release).count()
        return Response(CiCommitsResultSerializer({"added": added, "total": total}).data)

    @extend_schema(
        operation_id="ci_release_tickets",
        summary="Add tickets to the release's scope (or update them by key)",
        description="A ticket key new to the release changes its scope, which invalidates approvals "
        "given for the old scope. Token scopes: read, releases.",
        parameters=[VERSION_PARAM],
        request=CiTicketsInput,
        responses={200: CiTicketsResultSerializer, **ci_errors(400, 401, 403, 404, 409)},
        examples=[examples.TICKETS_IN, examples.TICKETS_OUT],
    )
    @action(detail=True, methods=["post"])
    def tickets(self, request, version=None):
        _require_scopes(request, TokenScope.READ, TokenScope.RELEASES)
        project, release = self._target(request, version, "scope")
        data = _valid(CiTicketsInput, request)
        project, release = self._project_and_release(data, version, project, release)
        tickets = release_tickets_add(release=release, tickets=data["tickets"], actor=request.user)
        return Response(CiTicketsResultSerializer({"tickets": tickets}).data)

    @extend_schema(
        operation_id="ci_release_deployment_report",
        summary="Report a deployment started, succeeded or failed",
        description="`started` begins a deployment when every gate is open: 201, or 409 `gate_closed` "
        "with every gate's state and reason in `details.gates` (nothing recorded); `notes` describe it. "
        "`succeeded` / `failed` finish the deployment of this release running in the environment, "
        "with an optional `reason`: 200, or 409 `no_running_deployment`. `notes` when finishing is "
        "the old spelling of `reason` (accepted until 2027-06-01, with `Deprecation` and `Sunset` "
        "headers on the answer). Token scopes: read, deployments.",
        parameters=[VERSION_PARAM],
        request=CiDeploymentReportInput,
        responses={
            201: DeploymentSerializer,
            200: DeploymentSerializer,
            **ci_errors(400, 401, 403, 404, 409),
        },
        examples=[
            examples.DEPLOY_STARTED,
            examples.DEPLOY_SUCCEEDED,
            examples.DEPLOYMENT_OUT,
            examples.GATE_CLOSED_ERROR,
        ],
    )
    @action(detail=True, methods=["post"])
    def deployments(self, request, version=None):
        _require_scopes(request, TokenScope.READ, TokenScope.DEPLOYMENTS)
        project, release = self._target(request, version, "deploy")
        data = _valid(CiDeploymentReportInput, request)
        project, release = self._project_and_release(data, version, project, release)
        environment = selectors.ci_environment_get(project=project, name=data["environment"])
        deployment, created = services.ci_deployment_report(
            release=release,
            environment=environment,
            outcome=data["status"],
            actor=request.user,
            artifact_version=data.get("artifact_version", ""),
            commit_sha=data.get("commit_sha", ""),
            strategy=data.get("strategy", ""),
            notes=data.get("notes", ""),
            reason=data.get("reason", ""),
        )
        response = Response(
            DeploymentSerializer(deployment).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
        return deprecation_mark(response, data[USED_KEY])

    @extend_schema(
        operation_id="ci_release_test_run",
        summary="Upload test results (JUnit XML) and coverage",
        description="The report is parsed into totals, failures, errors, skipped, duration and the "
        "names of failing tests. Reports with a DOCTYPE or entities are refused (400 `invalid_junit`). "
        "Token scopes: read, test_results.",
        parameters=[VERSION_PARAM],
        request=CiTestRunInput,
        responses={201: CiTestRunSerializer, **ci_errors(400, 401, 403, 404)},
        examples=[examples.TEST_RUN_IN, examples.TEST_RUN_OUT],
    )
    @action(detail=True, methods=["post"], url_path="test-runs")
    def test_runs(self, request, version=None):
        _require_scopes(request, TokenScope.READ, TokenScope.TEST_RESULTS)
        project, release = self._target(request, version, None)
        if release is not None and not can_record_test_results(request.user, release):
            raise test_results_refusal()
        data = _valid(CiTestRunInput, request)
        project, release = self._project_and_release(data, version, project, release)
        environment = (
            selectors.ci_environment_get(project=project, name=data["environment"])
            if data.get("environment")
            else None
        )
        test_run = services.test_run_record(
            release=release,
            actor=request.user,
            junit_xml=data["junit_xml"],
            name=data.get("name", ""),
            environment=environment,
            coverage_percent=data.get("coverage_percent"),
        )
        return Response(CiTestRunSerializer(test_run).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="ci_release_gate",
        summary="May this release enter this environment now?",
        description="200 with `open: true` and every gate, or 409 `gate_closed` with the same gates in "
        "`details.gates` and every closed gate's reason in `message`. The same answer as "
        "`GET /api/v1/releases/{id}/gates/{environment}/`, addressed by version. "
        "Token scopes: read or deployments.",
        parameters=[VERSION_PARAM, ENVIRONMENT_PARAM, PROJECT_QUERY_PARAM],
        responses={200: GateReportSerializer, **ci_errors(400, 401, 403, 404, 409)},
        examples=[examples.GATE_OPEN, examples.GATE_CLOSED_ERROR],
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"gate/(?P<environment>[^/]+)",
        token_read_scopes=(TokenScope.READ, TokenScope.DEPLOYMENTS),
    )
    def gate(self, request, version=None, environment=None):
        project = self._project()
        release = self._release(project, version)
        try:
            target = selectors.ci_environment_get(project=project, name=environment)
        except ValidationFailed as exc:
            raise NotFound(exc.message) from None
        report = gate_evaluate(release=release, environment=target)
        if not report.is_open:
            raise GateBlocked(report)
        return Response(report.as_dict())


class CiWhoAmIView(APIView):
    """Who is calling: lets a pipeline check its URL and token before doing anything."""

    token_read_scopes = tuple(TokenScope.values)

    @extend_schema(
        operation_id="ci_whoami",
        summary="Describe the caller (the API token, or the signed-in person)",
        responses={200: CiWhoAmISerializer, **ci_errors(401)},
        examples=[examples.WHOAMI_OUT],
    )
    def get(self, request):
        user = request.user
        if is_token(user):
            token = user.api_token
            body = {
                "kind": "token",
                "name": token.name,
                "project": token.project.slug,
                "scopes": sorted(token.scopes or []),
                "expires_at": token.expires_at,
            }
        else:
            body = {
                "kind": "person",
                "name": user.get_username(),
                "project": None,
                "scopes": [],
                "expires_at": None,
            }
        return Response(CiWhoAmISerializer(body).data)
