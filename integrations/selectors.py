"""Reads for the pipeline API and the token pages."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import QuerySet

from core.exceptions import NotFound, ValidationFailed
from projects.choices import Role
from projects.models import ApiToken, Environment, Membership, Project
from projects.principals import Caller, TokenPrincipal
from projects.selectors import project_list
from releases.choices import DEPLOYMENT_ACTIVE_STATES
from releases.models import Deployment, Release
from releases.versions import version_parse


def ci_project_resolve(*, principal: Caller, slug: str | None) -> Project:
    """The project a pipeline call acts on.

    A token acts on its own project (naming another one is a 404); a person
    names the project, which must be one they can see.
    """
    slug = (slug or "").strip()
    if isinstance(principal, TokenPrincipal):
        project = principal.api_token.project
        if slug and slug != project.slug:
            raise NotFound(
                f"No project '{slug[:60]}' for this token; it belongs to another project."
            )
        return project
    if not slug:
        raise ValidationFailed(
            "Name the project: pass its slug as 'project'.",
            details={"project": ["This field is required when you sign in as a person."]},
        )
    visible = project_list(user=principal).filter(slug=slug).first()
    if visible is None:
        raise NotFound(f"No project '{slug[:60]}'.")
    return visible


def ci_release_get(*, project: Project, version: str) -> Release:
    """The release of ``project`` with this version ('v' prefix allowed) or NotFound."""
    normalised, *_ = version_parse(version)
    release = (
        Release.objects.select_related("project", "release_manager")
        .filter(project=project, version=normalised)
        .first()
    )
    if release is None:
        raise NotFound(f"No release {normalised} in {project}.")
    return release


def ci_environment_get(*, project: Project, name: str) -> Environment:
    """An environment by name; an unknown name is a validation error listing the known ones."""
    environments = list(Environment.objects.filter(project=project).order_by("order"))
    for environment in environments:
        if environment.name == name:
            return environment
    known = ", ".join(e.name for e in environments)
    raise ValidationFailed(
        f"No environment '{str(name)[:40]}' in {project}; known environments: {known}.",
        details={"environment": [f"Choose one of: {known}."]},
        code="unknown_environment",
    )


def ci_running_deployment(*, release: Release, environment: Environment) -> Deployment | None:
    """The newest deployment of ``release`` still running in ``environment``, if any."""
    return (
        Deployment.objects.filter(
            release=release, environment=environment, status__in=DEPLOYMENT_ACTIVE_STATES
        )
        .select_related("release", "environment")
        .order_by("-created_at", "-id")
        .first()
    )


def token_admin_projects(*, user: Caller) -> QuerySet[Project]:
    """Projects where ``user`` is an admin, i.e. may manage API tokens."""
    # Tokens and anonymous callers manage no tokens.
    if not isinstance(user, User) or not user.is_authenticated:
        return Project.objects.none()
    ids = Membership.objects.filter(user=user, role=Role.ADMIN).values("project_id")
    return Project.objects.filter(pk__in=ids).order_by("name")


def token_admin_project_get(*, user: Caller, slug: str) -> Project:
    project = token_admin_projects(user=user).filter(slug=slug).first()
    if project is None:
        raise NotFound("No such project.")
    return project


def token_list(*, project: Project) -> QuerySet[ApiToken]:
    return (
        ApiToken.objects.filter(project=project)
        .select_related("created_by")
        .order_by("-created_at", "-id")
    )


def token_get(*, project: Project, pk: int | str) -> ApiToken:
    try:
        number = int(pk)
    except (TypeError, ValueError):
        raise NotFound("No such token.") from None
    token = ApiToken.objects.filter(project=project, pk=number).select_related("project").first()
    if token is None:
        raise NotFound("No such token.")
    return token
