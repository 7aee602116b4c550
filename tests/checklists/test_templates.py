"""Templates: shipped defaults, project templates, drafts, publishing, and versions in flight."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from checklists.choices import VersionStatus
from checklists.defaults import SHIPPED_TEMPLATES
from checklists.exceptions import TemplateNotEditable
from checklists.models import Checklist, ChecklistTemplate, Item, TemplateVersion
from checklists.selectors import template_default_for, version_steps
from checklists.services import (
    shipped_templates_install,
    template_create,
    template_draft_discard,
    template_draft_start,
    template_item_add,
    template_item_move,
    template_item_update,
    template_publish,
    template_step_add,
    template_step_delete,
    template_step_move,
    template_update,
)
from core.exceptions import NotFound, PermissionDenied, ValidationFailed
from releases.services import release_create


def test_shipped_install__creates_three_templates_once(db):
    assert shipped_templates_install() == 3
    assert shipped_templates_install() == 0
    shipped = {t.slug: t for t in ChecklistTemplate.objects.filter(project__isnull=True)}
    assert set(shipped) == {"release-procedure", "hotfix", "environment-readiness"}
    procedure = shipped["release-procedure"].versions.get()
    assert procedure.status == VersionStatus.PUBLISHED
    steps = version_steps(procedure)
    assert [s.title for s in steps] == [
        "Prepare the release branch",
        "Deploy to staging",
        "Validate on staging",
        "Get ready for production",
        "Deploy to production",
        "Verify production",
        "Wrap up the release",
    ]
    assert all(s.expected_output for s in steps)
    assert AuditEvent.objects.filter(action="checklist_template.installed").count() == 3


def test_shipped_install__changed_content__publishes_a_new_version(db, monkeypatch):
    shipped_templates_install()
    changed = dict(SHIPPED_TEMPLATES[1])
    changed["steps"] = [
        *changed["steps"],
        {
            "title": "Look back",
            "phase": "after_production",
            "description": "",
            "expected_output": "Lessons noted.",
            "items": [("Short review held", "release_manager", {})],
        },
    ]
    monkeypatch.setattr(
        "checklists.template_content.SHIPPED_TEMPLATES", (SHIPPED_TEMPLATES[0], changed)
    )
    assert shipped_templates_install() == 1
    hotfix = ChecklistTemplate.objects.get(project__isnull=True, slug="hotfix")
    assert list(hotfix.versions.values_list("number", flat=True)) == [2, 1]


def test_default_for__project_without_templates__uses_shipped_ones(project):
    assert (
        template_default_for(project=project, release_type="minor").template.slug
        == "release-procedure"
    )
    assert template_default_for(project=project, release_type="hotfix").template.slug == "hotfix"


def test_create__non_admin__is_forbidden_and_outsider_gets_not_found(project, people):
    with pytest.raises(PermissionDenied):
        template_create(project=project, actor=people.alice, name="Mine")
    with pytest.raises(NotFound):
        template_create(project=project, actor=people.olga, name="Mine")
    assert not ChecklistTemplate.objects.filter(project=project).exists()


def test_create__copy_of_shipped__starts_a_draft_with_its_content(project, people):
    shipped_templates_install()
    source = TemplateVersion.objects.get(template__slug="hotfix", template__project__isnull=True)
    template = template_create(
        project=project,
        actor=people.adam,
        name="Our hotfix",
        copy_from=source,
        release_types=["hotfix"],
    )
    draft = template.versions.get()
    assert draft.status == VersionStatus.DRAFT and draft.number == 1
    assert [s.title for s in version_steps(draft)] == [s.title for s in version_steps(source)]
    # A draft is not used by releases until it is published.
    assert template_default_for(project=project, release_type="hotfix").template.project_id is None


def test_publish__empty_draft_or_empty_step__is_refused(project, people):
    template = template_create(project=project, actor=people.adam, name="Empty")
    with pytest.raises(ValidationFailed):
        template_publish(template=template, actor=people.adam)
    template_step_add(version=template.versions.get(), actor=people.adam, title="Lonely step")
    with pytest.raises(ValidationFailed) as exc:
        template_publish(template=template, actor=people.adam)
    assert "Lonely step" in exc.value.message


def test_published_version__cannot_be_edited(small_template, people):
    published = small_template.versions.get()
    with pytest.raises(TemplateNotEditable):
        template_step_add(version=published, actor=people.adam, title="Late addition")


def test_shipped_template__cannot_be_edited(project, people):
    shipped_templates_install()
    shipped = ChecklistTemplate.objects.get(project__isnull=True, slug="hotfix")
    with pytest.raises(TemplateNotEditable):
        template_draft_start(template=shipped, actor=people.adam)


def test_new_version__in_flight_release_keeps_its_version(
    small_template, small_release, project, people
):
    draft = template_draft_start(template=small_template, actor=people.adam)
    assert draft.number == 2
    step = template_step_add(
        version=draft, actor=people.adam, title="Tell support", phase="after_production"
    )
    template_item_add(step=step, actor=people.adam, text="Support briefed", role="product_owner")
    template_publish(template=small_template, actor=people.adam, change_note="Support step")

    later = release_create(project=project, version="3.2.0", title="Later", actor=people.alice)
    old, new = Checklist.objects.get(release=small_release), Checklist.objects.get(release=later)
    assert (old.version_number, new.version_number) == (1, 2)
    assert not Item.objects.filter(checklist=old, text="Support briefed").exists()
    assert Item.objects.filter(checklist=new, text="Support briefed").exists()
    assert AuditEvent.objects.filter(action="checklist_template.published").count() == 2


def test_draft__reorder_edit_delete_and_discard(small_template, people):
    draft = template_draft_start(template=small_template, actor=people.adam)
    steps = version_steps(draft)
    template_step_move(step=steps[1], actor=people.adam, direction="up")
    assert [s.title for s in version_steps(draft)] == ["Ready for production", "Branch ready"]
    ready = version_steps(draft)[0]
    items = list(ready.items.all())
    template_item_move(item=items[0], actor=people.adam, direction="down")
    assert [i.text for i in version_steps(draft)[0].items.all()][:2] == [
        "Regression suite green",
        "Rollback rehearsed",
    ]
    template_item_update(
        item=items[2], actor=people.adam, text="Dashboards open and shared", required=True
    )
    template_step_delete(step=version_steps(draft)[1], actor=people.adam)
    assert [s.title for s in version_steps(draft)] == ["Ready for production"]
    # The published version is untouched by all of that.
    v1 = small_template.versions.get(number=1)
    assert [s.title for s in version_steps(v1)] == ["Branch ready", "Ready for production"]
    template_draft_discard(template=small_template, actor=people.adam)
    assert not small_template.versions.filter(status=VersionStatus.DRAFT).exists()
    assert AuditEvent.objects.filter(action="checklist_template.draft_edited").count() >= 4


def test_move__past_the_end__changes_nothing_and_bad_direction_is_refused(small_template, people):
    draft = template_draft_start(template=small_template, actor=people.adam)
    first = version_steps(draft)[0]
    template_step_move(step=first, actor=people.adam, direction="up")
    assert version_steps(draft)[0].pk == first.pk
    with pytest.raises(ValidationFailed):
        template_step_move(step=first, actor=people.adam, direction="sideways")


def test_update__release_types_move_from_other_templates(small_template, project, people):
    other = template_create(
        project=project, actor=people.adam, name="Other", release_types=["minor", "major"]
    )
    small_template.refresh_from_db()
    assert small_template.release_types == []
    template_update(template=small_template, actor=people.adam, release_types=["major"])
    other.refresh_from_db()
    assert other.release_types == ["minor"]
    with pytest.raises(ValidationFailed):
        template_update(template=small_template, actor=people.adam, release_types=["nightly"])


@pytest.mark.parametrize(
    "bad",
    [{"title": ""}, {"title": "x" * 201}, {"title": "ok", "phase": "someday"}, {"title": "a\x00b"}],
)
def test_step_add__bad_input__is_refused(small_template, people, bad):
    draft = template_draft_start(template=small_template, actor=people.adam)
    with pytest.raises(ValidationFailed):
        template_step_add(version=draft, actor=people.adam, **bad)
