"""Checklist pages: what each person sees and what their clicks change."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEvent
from checklists.choices import ItemStatus
from checklists.models import ChecklistTemplate, Item, TemplateVersion
from checklists.services import (
    item_tick,
    template_create,
    template_item_add,
    template_publish,
    template_step_add,
)
from releases.services import release_create, release_promote
from tests.checklists.helpers import HTMX, client_for, deploy, item_named


def _tick_url(item) -> str:
    return reverse("checklists:item_tick", args=[item.pk])


def _body(response) -> str:
    return response.content.decode()


# --- The release page panel ---------------------------------------------------------------


def test_release_page__shows_the_checklist_with_steps_and_progress(small_release, people):
    response = client_for(people.alice).get(reverse("releases:detail", args=[small_release.pk]))
    body = _body(response)
    assert response.status_code == 200
    assert 'id="checklist"' in body
    assert "Small release" in body and "0 of 4 items done" in body
    assert "Branch ready" in body and "Ready for production" in body
    assert "Blocking Development" not in body
    assert 'aria-label="Tick: Release branch cut"' in body


def _template_of(project, admin, *, name, types, steps: int, items_per_step: int):
    template = template_create(project=project, actor=admin, name=name, release_types=types)
    draft = template.versions.get()
    for s in range(steps):
        step = template_step_add(
            version=draft,
            actor=admin,
            title=f"{name} step {s}",
            phase="before_production" if s % 2 else "before_staging",
        )
        for i in range(items_per_step):
            template_item_add(
                step=step,
                actor=admin,
                text=f"{name} item {s}.{i}",
                role=["release_manager", "qa", "engineer"][i % 3],
                evidence_required=i % 4 == 0,
            )
    template_publish(template=template, actor=admin)


def test_release_page__query_count_does_not_grow_with_the_checklist(
    project, people, envs, django_assert_max_num_queries
):
    _template_of(project, people.adam, name="Tiny", types=["patch"], steps=1, items_per_step=1)
    _template_of(project, people.adam, name="Huge", types=["major"], steps=10, items_per_step=20)
    tiny = release_create(
        project=project, version="1.0.1", title="Tiny", actor=people.alice, type="patch"
    )
    huge = release_create(
        project=project, version="2.0.0", title="Huge", actor=people.alice, type="major"
    )
    assert Item.objects.filter(checklist__release=huge).count() == 200
    for release in (
        tiny,
        huge,
    ):  # some ticked, evidence, a deployment: every branch of the template
        first = Item.objects.filter(checklist__release=release).order_by("id").first()
        item_tick(
            item=Item.objects.select_related("step", "checklist__release").get(pk=first.pk),
            actor=people.alice,
            evidence="https://ci.example.com/1",
            note="checked",
        )
        deploy(release, envs["dev"], people.bob)
    client = client_for(people.quinn)
    counts = {}
    for release in (tiny, huge):
        client.get(
            reverse("releases:detail", args=[release.pk])
        )  # warm the session and caches alike
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse("releases:detail", args=[release.pk]))
        assert response.status_code == 200
        counts[release.version] = len(ctx.captured_queries)
    assert counts["1.0.1"] == counts["2.0.0"], counts
    with django_assert_max_num_queries(counts["1.0.1"]):
        client.get(reverse("releases:detail", args=[huge.pk]))
    # The checklist fragment alone: a handful of queries whatever the size.
    with django_assert_max_num_queries(12):
        response = client.get(reverse("checklists:release", args=[huge.pk]), headers=HTMX)
    assert _body(response).count('data-item="') == 200


def test_panel__auditor_reads_but_has_no_tick_buttons(small_release, people):
    item_tick(
        item=item_named(small_release, "Rollback rehearsed"),
        actor=people.alice,
        note="Done on Tuesday",
    )
    body = _body(client_for(people.aud).get(reverse("checklists:release", args=[small_release.pk])))
    assert "Rollback rehearsed" in body and "Ticked by alice" in body
    assert "Tick:" not in body
    assert "Add an item for this release" not in body


def test_panel__my_items_filter__shows_only_my_roles(small_release, people):
    body = _body(
        client_for(people.quinn).get(
            reverse("checklists:release", args=[small_release.pk]) + "?mine=1", headers=HTMX
        )
    )
    assert "Regression suite green" in body
    assert "Rollback rehearsed" not in body and "Release branch cut" not in body


def test_panel__outsider__gets_404(small_release, people):
    response = client_for(people.olga).get(reverse("checklists:release", args=[small_release.pk]))
    assert response.status_code == 404


def test_panel__overdue_and_blocking_steps_are_highlighted(
    small_release, people, envs, checklist_gates
):
    import datetime

    from releases.services import release_update

    release_update(release=small_release, actor=people.alice, target_date=datetime.date(2020, 1, 1))
    body = _body(
        client_for(people.alice).get(reverse("checklists:release", args=[small_release.pk]))
    )
    assert "Overdue" in body
    deploy(small_release, envs["dev"], people.bob)
    body = _body(
        client_for(people.alice).get(reverse("checklists:release", args=[small_release.pk]))
    )
    assert "is-blocking" in body and "Blocking Staging" in body


# --- Ticking from the page -------------------------------------------------------------------


def test_tick__htmx__swaps_the_checklist_and_records_who(small_release, people):
    item = item_named(small_release, "Rollback rehearsed")
    response = client_for(people.alice).post(_tick_url(item), {"note": "Rehearsed"}, headers=HTMX)
    body = _body(response)
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="checklist"')
    assert "Ticked by alice" in body and "Rehearsed" in body
    assert "checklistChanged" in response["HX-Trigger"]
    assert item_named(small_release, "Rollback rehearsed").status == ItemStatus.DONE


def test_tick__release_manager_ticks_a_qa_item__page_says_it_was_for_qa(small_release, people):
    item = item_named(small_release, "Regression suite green")
    response = client_for(people.alice).post(
        _tick_url(item), {"evidence": "CI run 4411"}, headers=HTMX
    )
    body = _body(response)
    assert 'Ticked by alice <span class="badge badge-on-behalf">for QA</span>' in body
    assert "the release manager, on behalf of QA" in body


def test_tick__completing_a_gating_step__asks_the_release_page_to_refresh_gates(
    small_release, people
):
    response = client_for(people.alice).post(
        _tick_url(item_named(small_release, "Release branch cut")), headers=HTMX
    )
    assert "releaseChanged" in response["HX-Trigger"]


def test_tick__missing_evidence__shows_the_message_in_place_and_changes_nothing(
    small_release, people
):
    item = item_named(small_release, "Regression suite green")
    response = client_for(people.quinn).post(_tick_url(item), {"evidence": ""}, headers=HTMX)
    assert response.status_code == 200
    assert "needs evidence" in _body(response)
    assert "HX-Trigger" not in response
    assert item_named(small_release, "Regression suite green").status == ItemStatus.OPEN


def test_tick__non_http_evidence__is_refused_with_a_message(small_release, people):
    item = item_named(small_release, "Regression suite green")
    response = client_for(people.quinn).post(
        _tick_url(item), {"evidence": "javascript:alert(1)"}, headers=HTMX
    )
    assert "http:// or https://" in _body(response)
    assert item_named(small_release, "Regression suite green").status == ItemStatus.OPEN


def test_tick__without_javascript__redirects_back_to_the_release(small_release, people):
    item = item_named(small_release, "Rollback rehearsed")
    response = client_for(people.alice).post(_tick_url(item))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("releases:detail", args=[small_release.pk]))
    assert item_named(small_release, "Rollback rehearsed").status == ItemStatus.DONE


def test_tick__wrong_role__is_403(small_release, people):
    item = item_named(small_release, "Regression suite green")
    response = client_for(people.bob).post(_tick_url(item), {"evidence": "x"}, headers=HTMX)
    assert response.status_code == 403
    assert item_named(small_release, "Regression suite green").status == ItemStatus.OPEN


@pytest.mark.parametrize("pk", ["999999", "0"])
def test_tick__nonexistent_item__is_404(small_release, people, pk):
    response = client_for(people.alice).post(f"/checklists/items/{pk}/tick/", headers=HTMX)
    assert response.status_code == 404


def test_tick__item_of_another_project__is_404(small_release, people):
    item = item_named(small_release, "Rollback rehearsed")
    response = client_for(people.olga).post(_tick_url(item), headers=HTMX)
    assert response.status_code == 404
    assert item_named(small_release, "Rollback rehearsed").status == ItemStatus.OPEN


def test_tick__get__is_not_allowed(small_release, people):
    response = client_for(people.alice).get(
        _tick_url(item_named(small_release, "Rollback rehearsed"))
    )
    assert response.status_code == 405


def test_two_people__each_sees_the_others_tick_on_their_next_click(small_release, people):
    alice, quinn = client_for(people.alice), client_for(people.quinn)
    alice.post(_tick_url(item_named(small_release, "Rollback rehearsed")), headers=HTMX)
    body = _body(
        quinn.post(
            _tick_url(item_named(small_release, "Regression suite green")),
            {"evidence": "run 7"},
            headers=HTMX,
        )
    )
    assert "Ticked by alice" in body and "Ticked by quinn" in body


def test_same_item_twice__second_person_is_told_and_nothing_changes(small_release, people):
    item = item_named(small_release, "Regression suite green")
    client_for(people.quinn).post(_tick_url(item), {"evidence": "run 7"}, headers=HTMX)
    response = client_for(people.alice).post(_tick_url(item), {"evidence": "run 8"}, headers=HTMX)
    assert "already done by quinn" in _body(response)
    assert item_named(small_release, "Regression suite green").evidence == "run 7"
    assert AuditEvent.objects.filter(action="checklist.item_ticked").count() == 1


def test_untick__after_gate_passed__explains_why_in_the_fragment(
    small_release, people, envs, checklist_gates
):
    item = item_named(small_release, "Release branch cut")
    item_tick(item=item, actor=people.alice)
    deploy(small_release, envs["dev"], people.bob)
    release_promote(release=small_release, environment=envs["staging"], actor=people.bob)
    response = client_for(people.alice).post(
        reverse("checklists:item_untick", args=[item.pk]), headers=HTMX
    )
    assert response.status_code == 200
    assert "cannot be reopened" in _body(response)
    assert item_named(small_release, "Release branch cut").status == ItemStatus.DONE


def test_not_applicable_and_adhoc_item__from_the_page(small_release, people):
    client = client_for(people.alice)
    item = item_named(small_release, "Regression suite green")
    body = _body(
        client.post(
            reverse("checklists:item_not_applicable", args=[item.pk]),
            {"reason": "No code changed"},
            headers=HTMX,
        )
    )
    assert "No code changed" in body
    step = item.step
    body = _body(
        client.post(
            reverse("checklists:item_add", args=[step.pk]),
            {"text": "Warn the partner", "role": "product_owner", "required": "on"},
            headers=HTMX,
        )
    )
    assert "Warn the partner" in body and "this release" in body
    body = _body(
        client.post(
            reverse("checklists:item_add", args=[step.pk]), {"text": "", "role": "qa"}, headers=HTMX
        )
    )
    assert "Item not added" in body


def test_step_output__from_the_page(small_release, people):
    step = item_named(small_release, "Regression suite green").step
    body = _body(
        client_for(people.quinn).post(
            reverse("checklists:step_output", args=[step.pk]),
            {"actual_output": "412 tests green"},
            headers=HTMX,
        )
    )
    assert "412 tests green" in body


def test_start_checklist__release_without_one(release, people):
    release.checklist.delete()
    client = client_for(people.alice)
    body = _body(client.get(reverse("checklists:release", args=[release.pk]), headers=HTMX))
    assert "has no checklist" in body
    version = TemplateVersion.objects.get(template__slug="environment-readiness")
    body = _body(
        client.post(
            reverse("checklists:start", args=[release.pk]), {"version": version.pk}, headers=HTMX
        )
    )
    assert "Environment health" in body
    response = client.post(
        reverse("checklists:start", args=[release.pk]), {"version": "nope"}, headers=HTMX
    )
    assert response.status_code == 404


def test_append_template__adds_its_steps(small_release, people):
    from checklists.services import shipped_templates_install

    shipped_templates_install()
    version = TemplateVersion.objects.get(template__slug="environment-readiness")
    body = _body(
        client_for(people.alice).post(
            reverse("checklists:append", args=[small_release.pk]),
            {"version": version.pk},
            headers=HTMX,
        )
    )
    assert "Backups and the way back" in body
    assert AuditEvent.objects.filter(action="checklist.steps_appended").count() == 1


# --- My items --------------------------------------------------------------------------------


def test_my_items__lists_open_items_of_my_roles_across_releases(small_release, project, people):
    release_create(
        project=project, version="3.0.1", title="Urgent", actor=people.alice, type="hotfix"
    )
    response = client_for(people.quinn).get(reverse("checklists:my_items"))
    body = _body(response)
    assert response.status_code == 200
    assert "Regression suite green" in body  # 3.1.0, the project's small template
    assert (
        "Smoke test in production within ten minutes" in body
    )  # 3.0.1, the shipped hotfix template
    assert "Rollback rehearsed" not in body


def test_my_items__tick_from_the_list__removes_it(small_release, people):
    item = item_named(small_release, "Regression suite green")
    body = _body(
        client_for(people.quinn).post(
            _tick_url(item), {"evidence": "run 9", "view": "my_items"}, headers=HTMX
        )
    )
    assert 'id="my-items"' in body
    assert "Regression suite green" not in body


def test_my_items__outsider_sees_none_of_it(small_release, people):
    body = _body(client_for(people.olga).get(reverse("checklists:my_items")))
    assert "Regression suite green" not in body


def test_my_items__in_the_navigation(people, project):
    body = _body(client_for(people.quinn).get(reverse("checklists:my_items")))
    assert f'href="{reverse("checklists:my_items")}"' in body


# --- Template editor ---------------------------------------------------------------------------


def test_templates_page__lists_shipped_and_project_templates(small_template, people):
    from checklists.services import shipped_templates_install

    shipped_templates_install()
    body = _body(client_for(people.alice).get(reverse("checklists:templates")))
    assert (
        "Release procedure" in body
        and "Hotfix (emergency path)" in body
        and "Small release" in body
    )
    assert "New template" not in body  # alice is not an admin
    assert "New template" in _body(client_for(people.adam).get(reverse("checklists:templates")))


def test_editor__admin_creates_edits_and_publishes_a_template(project, people):
    client = client_for(people.adam)
    response = client.post(
        reverse("checklists:template_create"),
        {"project": project.slug, "name": "Mobile release", "release_types": ["beta"]},
    )
    template = ChecklistTemplate.objects.get(project=project, name="Mobile release")
    assert response.status_code == 302
    action = lambda op: reverse("checklists:template_action", args=[template.pk, op])  # noqa: E731
    body = _body(
        client.post(
            action("add-step"),
            {"title": "Store review", "phase": "before_production"},
            headers=HTMX,
        )
    )
    assert "Store review" in body
    step = template.versions.get().steps.get()
    body = _body(
        client.post(
            reverse("checklists:template_step_action", args=[step.pk, "add-item"]),
            {"text": "Screenshots updated", "role": "product_owner", "required": "on"},
            headers=HTMX,
        )
    )
    assert "Screenshots updated" in body
    client.post(
        reverse("checklists:template_step_action", args=[step.pk, "add-item"]),
        {"text": "Build uploaded", "role": "engineer"},
        headers=HTMX,
    )
    second = step.items.get(text="Build uploaded")
    client.post(reverse("checklists:template_item_action", args=[second.pk, "up"]), headers=HTMX)
    assert [i.text for i in step.items.order_by("position", "id")] == [
        "Build uploaded",
        "Screenshots updated",
    ]
    preview = client.get(reverse("checklists:template_preview", args=[template.pk]))
    assert preview.status_code == 200 and "Build uploaded" in _body(preview)
    body = _body(client.post(action("publish"), {"change_note": "First cut"}, headers=HTMX))
    assert "First cut" in body
    assert template.versions.get().status == "published"
    created = release_create(
        project=project, version="4.0.0-beta.1", title="Beta", actor=people.alice, type="beta"
    )
    assert created.checklist.template_name == "Mobile release"


def test_editor__bad_input_is_shown_in_place(small_template, people):
    client = client_for(people.adam)
    client.post(
        reverse("checklists:template_action", args=[small_template.pk, "draft"]), headers=HTMX
    )
    body = _body(
        client.post(
            reverse("checklists:template_action", args=[small_template.pk, "add-step"]),
            {"title": "", "phase": "sometime"},
            headers=HTMX,
        )
    )
    assert "Title is required" in body or "Unknown phase" in body


def test_editor__non_admin_cannot_edit_and_outsider_cannot_see(small_template, people):
    url = reverse("checklists:template_action", args=[small_template.pk, "draft"])
    assert client_for(people.alice).post(url, headers=HTMX).status_code == 403
    assert client_for(people.olga).post(url, headers=HTMX).status_code == 404
    assert (
        client_for(people.olga)
        .get(reverse("checklists:template_detail", args=[small_template.pk]))
        .status_code
        == 404
    )
    assert (
        client_for(people.alice)
        .get(reverse("checklists:template_detail", args=[small_template.pk]))
        .status_code
        == 200
    )


def test_editor__unknown_operation_or_template__is_404(small_template, people):
    client = client_for(people.adam)
    assert (
        client.post(
            reverse("checklists:template_action", args=[small_template.pk, "explode"])
        ).status_code
        == 404
    )
    assert client.get(reverse("checklists:template_detail", args=[987654])).status_code == 404
    assert (
        client.get(
            reverse("checklists:template_detail", args=[small_template.pk]) + "?version=x"
        ).status_code
        == 404
    )
