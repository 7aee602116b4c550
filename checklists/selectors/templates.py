"""Reading checklist templates: the default for a new release, lists, one template, its versions."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet

from checklists.choices import VersionStatus
from checklists.models import (
    Checklist,
    ChecklistTemplate,
    ItemTemplate,
    StepTemplate,
    TemplateVersion,
)
from checklists.permissions import can_view_template
from checklists.selectors.common import pk_or_404
from checklists.template_content import shipped_templates_ensure, shipped_templates_install
from core.exceptions import NotFound
from projects.models import Project
from projects.principals import Caller
from projects.selectors import project_list


def _versions_newest_first() -> Prefetch[str]:
    return Prefetch(
        "versions",
        queryset=TemplateVersion.objects.select_related("published_by").order_by("-number"),
    )


def template_default_for(*, project: Project, release_type: str) -> TemplateVersion | None:
    """The newest published version of the template a new release of ``release_type`` starts from.

    The project's own template for that type wins; otherwise the shipped one;
    otherwise the shipped release procedure. Installs the shipped templates if
    they are missing (a fresh database, or a test that emptied the tables).
    """
    templates = list(ChecklistTemplate.objects.filter(Q(project=project) | Q(project__isnull=True)))
    if not any(t.project_id is None for t in templates):
        shipped_templates_install()
        templates = list(
            ChecklistTemplate.objects.filter(Q(project=project) | Q(project__isnull=True))
        )
    published = {
        v.template_id: v
        for v in TemplateVersion.objects.filter(
            template__in=templates, status=VersionStatus.PUBLISHED
        )
        .select_related("template")
        .order_by("template_id", "number")
    }  # the last (highest) number per template wins
    candidates = [t for t in templates if t.pk in published]
    for t in sorted(candidates, key=lambda t: (t.project_id is None, -t.pk)):
        if release_type in (t.release_types or []):
            return published[t.pk]
    fallback = next(
        (t for t in candidates if t.project_id is None and t.slug == "release-procedure"), None
    )
    return published[fallback.pk] if fallback else None


def templates_queryset_for_api(*, user: Caller) -> QuerySet[ChecklistTemplate]:
    """Templates ``user`` may see (their projects' and the shipped ones), with their versions."""
    shipped_templates_ensure()
    projects = project_list(user=user)
    return (
        ChecklistTemplate.objects.filter(Q(project__in=projects) | Q(project__isnull=True))
        .select_related("project")
        .prefetch_related(_versions_newest_first())
        .order_by("project__name", "name", "id")
    )


def template_list(*, user: Caller, project: Project | None = None) -> list[ChecklistTemplate]:
    """Templates ``user`` may see (their projects' and the shipped ones), with their versions."""
    qs = templates_queryset_for_api(user=user)
    if project is not None:
        qs = qs.filter(Q(project=project) | Q(project__isnull=True))
    return list(qs)


def template_get(*, user: Caller, pk: object) -> ChecklistTemplate:
    """One template ``user`` may see, with its versions (newest first); else ``NotFound``."""
    template = (
        ChecklistTemplate.objects.select_related("project")
        .prefetch_related(_versions_newest_first())
        .filter(pk=pk_or_404(pk))
        .first()
    )
    if template is None or not can_view_template(user, template):
        raise NotFound("No such checklist template.")
    return template


def version_get(*, template: ChecklistTemplate, number: object) -> TemplateVersion:
    """Version ``number`` of ``template``, from its prefetched versions; else ``NotFound``."""
    version = next((v for v in template.versions.all() if v.number == pk_or_404(number)), None)
    if version is None:
        raise NotFound("No such version of this template.")
    return version


def latest_published(template: ChecklistTemplate) -> TemplateVersion | None:
    """From prefetched versions (newest first)."""
    return next((v for v in template.versions.all() if v.status == VersionStatus.PUBLISHED), None)


def current_draft(template: ChecklistTemplate) -> TemplateVersion | None:
    """The draft among the prefetched versions, if there is one."""
    return next((v for v in template.versions.all() if v.status == VersionStatus.DRAFT), None)


def template_step_get(*, pk: object) -> StepTemplate:
    """A template step with its version, template and project; ``NotFound`` if there is none.

    The caller checks that the person may see the template (``template_get``).
    """
    step = (
        StepTemplate.objects.select_related("version__template__project")
        .filter(pk=pk_or_404(pk))
        .first()
    )
    if step is None:
        raise NotFound("No such step.")
    return step


def template_item_get(*, pk: object) -> ItemTemplate:
    """A template item with its step, version, template and project; ``NotFound`` if there is none.

    The caller checks that the person may see the template (``template_get``).
    """
    item = (
        ItemTemplate.objects.select_related("step__version__template__project")
        .filter(pk=pk_or_404(pk))
        .first()
    )
    if item is None:
        raise NotFound("No such item.")
    return item


def version_steps(version: TemplateVersion) -> list[StepTemplate]:
    """Steps of a version with their items, two queries."""
    return list(
        StepTemplate.objects.filter(version=version)
        .prefetch_related("items")
        .order_by("position", "id")
    )


def published_versions_for(*, user: Caller, project: Project) -> list[TemplateVersion]:
    """The newest published version of every template a release in ``project`` may use."""
    templates = template_list(user=user, project=project)
    return [v for t in templates if (v := latest_published(t)) is not None]


def template_versions_in_use(template: ChecklistTemplate) -> dict[int, int]:
    """How many releases use each version of ``template`` (number → count)."""
    rows = (
        Checklist.objects.filter(template=template)
        .values("version_number")
        .annotate(n=Count("id"))
        .values_list("version_number", "n")
    )
    return dict(rows)
