"""Ticking, unticking, not applicable, ad-hoc items: who may, what is recorded, what is refused."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from checklists.choices import ItemStatus
from checklists.exceptions import (
    ChecklistClosed,
    EvidenceInvalid,
    EvidenceRequired,
    GateAlreadyPassed,
)
from checklists.models import Checklist, Item
from checklists.services import (
    evidence_clean,
    item_add,
    item_mark_not_applicable,
    item_tick,
    item_untick,
    step_record_output,
)
from core.exceptions import NotFound, PermissionDenied, ValidationFailed
from projects.principals import TokenPrincipal
from projects.services import api_token_create
from releases.services import release_cancel, release_create, release_promote
from tests.checklists.helpers import deploy, item_named

# --- The copy at release creation --------------------------------------------------------


def test_release_created__copies_shipped_release_procedure(release):
    checklist = Checklist.objects.get(release=release)
    assert checklist.template_name == "Release procedure"
    assert checklist.steps.count() == 7
    assert [s.title for s in checklist.steps.order_by("position")][
        0
    ] == "Prepare the release branch"
    assert checklist.items.count() > 40
    assert AuditEvent.objects.filter(action="checklist.created", release_id=release.pk).count() == 1


def test_release_created__hotfix__gets_hotfix_template(project, people):
    hotfix = release_create(
        project=project, version="2.4.1", title="Fix", actor=people.alice, type="hotfix"
    )
    assert Checklist.objects.get(release=hotfix).template_name == "Hotfix (emergency path)"


def test_release_created__by_ci_token__still_gets_a_checklist(project, people):
    token, _plain = api_token_create(
        project=project, name="CI", scopes=["read", "releases"], actor=people.adam
    )
    created = release_create(
        project=project,
        version="5.0.0",
        title="From CI",
        actor=TokenPrincipal(token),
        release_manager=people.alice,
    )
    checklist = Checklist.objects.get(release=created)
    assert checklist.created_by is None
    assert (
        AuditEvent.objects.get(action="checklist.created", release_id=created.pk).actor_label
        == "token:CI"
    )


def test_release_created__project_template_for_type_wins(small_release):
    checklist = Checklist.objects.get(release=small_release)
    assert checklist.template_name == "Small release"
    assert checklist.version_number == 1
    assert checklist.items.count() == 4


# --- Ticking -------------------------------------------------------------------------


def test_tick__role_holder__records_who_when_and_note(small_release, people):
    item = item_named(small_release, "Rollback rehearsed")
    ticked = item_tick(item=item, actor=people.alice, note="Rehearsed on staging on Tuesday.")
    assert ticked.status == ItemStatus.DONE
    assert ticked.completed_by == people.alice
    assert ticked.completed_at is not None
    assert ticked.note == "Rehearsed on staging on Tuesday."
    event = AuditEvent.objects.get(action="checklist.item_ticked")
    assert event.actor_label == "alice"
    assert (event.from_state, event.to_state) == ("open", "done")
    assert event.release_id == small_release.pk
    assert event.data["item"] == "Rollback rehearsed"


def test_tick__qa_item_by_qa_with_evidence_link__is_recorded(small_release, people):
    item = item_named(small_release, "Regression suite green")
    ticked = item_tick(item=item, actor=people.quinn, evidence="https://ci.example.com/runs/4411")
    assert ticked.evidence == "https://ci.example.com/runs/4411"
    assert ticked.evidence_is_link


def test_tick__evidence_as_short_reference__is_accepted(small_release, people):
    item = item_named(small_release, "Regression suite green")
    assert (
        item_tick(item=item, actor=people.quinn, evidence="CI run 4411").evidence == "CI run 4411"
    )


def test_tick__release_manager__may_tick_any_item(small_release, people):
    item = item_named(small_release, "Regression suite green")
    assert item_tick(item=item, actor=people.alice, evidence="run 12").completed_by == people.alice


def test_tick__release_manager_ticking_a_qa_item__is_recorded_on_qas_behalf(small_release, people):
    ticked = item_tick(
        item=item_named(small_release, "Regression suite green"), actor=people.alice, evidence="r 1"
    )
    assert (ticked.on_behalf_of, ticked.on_behalf_label) == ("qa", "QA")
    event = AuditEvent.objects.get(action="checklist.item_ticked")
    assert event.data["on_behalf_of"] == "qa"


def test_tick__role_holder_or_own_item__not_on_anyones_behalf(small_release, people):
    by_qa = item_tick(
        item=item_named(small_release, "Regression suite green"), actor=people.quinn, evidence="r 1"
    )
    own = item_tick(item=item_named(small_release, "Rollback rehearsed"), actor=people.alice)
    assert by_qa.on_behalf_of == own.on_behalf_of == ""
    assert all(
        "on_behalf_of" not in e.data
        for e in AuditEvent.objects.filter(action="checklist.item_ticked")
    )


def test_untick__clears_the_on_behalf_mark(small_release, people):
    item = item_tick(
        item=item_named(small_release, "Regression suite green"), actor=people.alice, evidence="r 1"
    )
    assert item_untick(item=item, actor=people.alice).on_behalf_of == ""


@pytest.mark.parametrize("username", ["bob", "pat", "ada", "aud", "adam"])
def test_tick__member_without_the_role__is_forbidden(small_release, people, username):
    item = item_named(small_release, "Regression suite green")
    with pytest.raises(PermissionDenied) as exc:
        item_tick(item=item, actor=getattr(people, username), evidence="run 12")
    assert "QA" in exc.value.message or "qa" in exc.value.message
    assert Item.objects.get(pk=item.pk).status == ItemStatus.OPEN
    assert not AuditEvent.objects.filter(action="checklist.item_ticked").exists()


def test_tick__outsider__gets_not_found(small_release, people):
    item = item_named(small_release, "Rollback rehearsed")
    with pytest.raises(NotFound):
        item_tick(item=item, actor=people.olga)
    assert Item.objects.get(pk=item.pk).status == ItemStatus.OPEN


def test_tick__api_token__is_refused_because_tokens_are_not_people(small_release, project, people):
    token, _ = api_token_create(
        project=project, name="CI", scopes=["read", "releases"], actor=people.adam
    )
    item = item_named(small_release, "Rollback rehearsed")
    with pytest.raises(PermissionDenied) as exc:
        item_tick(item=item, actor=TokenPrincipal(token))
    assert "people" in exc.value.message
    assert Item.objects.get(pk=item.pk).status == ItemStatus.OPEN


def test_tick__missing_required_evidence__is_refused_and_changes_nothing(small_release, people):
    item = item_named(small_release, "Regression suite green")
    with pytest.raises(EvidenceRequired) as exc:
        item_tick(item=item, actor=people.quinn, evidence="   ")
    assert "needs evidence" in exc.value.message
    assert Item.objects.get(pk=item.pk).status == ItemStatus.OPEN
    assert not AuditEvent.objects.filter(action="checklist.item_ticked").exists()


@pytest.mark.parametrize(
    "evidence",
    [
        "javascript:alert(1)",
        "ftp://files.example.com/run.log",
        "file:///etc/passwd",
        "data:text/html,hi",
        "http://",
        "https://exa mple.com/x",
        "line one\nline two",
        "x" * 201,
        "x" * 501,
        "a\x00b",
    ],
)
def test_tick__bad_evidence__is_refused_with_a_clear_message(small_release, people, evidence):
    item = item_named(small_release, "Regression suite green")
    with pytest.raises(ValidationFailed) as exc:
        item_tick(item=item, actor=people.quinn, evidence=evidence)
    assert exc.value.message
    assert Item.objects.get(pk=item.pk).status == ItemStatus.OPEN


def test_evidence_clean__normalises_scheme_case_and_keeps_references():
    assert evidence_clean("HTTPS://ci.example.com/1") == "https://ci.example.com/1"
    assert evidence_clean("  build #99 ") == "build #99"
    assert evidence_clean("ticket:REL-9") == "ticket:REL-9"
    with pytest.raises(EvidenceInvalid):
        evidence_clean("JavaScript:alert(1)")


def test_tick__already_ticked_by_someone_else__changes_nothing(small_release, people):
    item = item_named(small_release, "Regression suite green")
    item_tick(item=item, actor=people.quinn, evidence="run 1")
    again = item_tick(item=item, actor=people.alice, evidence="run 2")
    assert again.completed_by == people.quinn
    assert again.evidence == "run 1"
    assert AuditEvent.objects.filter(action="checklist.item_ticked").count() == 1


def test_tick__cancelled_release__is_refused(small_release, people):
    release_cancel(release=small_release, actor=people.alice, reason="Scope moved to 3.2.0.")
    item = item_named(small_release, "Rollback rehearsed")
    with pytest.raises(ChecklistClosed):
        item_tick(item=item, actor=people.alice)


# --- Unticking --------------------------------------------------------------------------


def test_untick__before_the_gate__reopens_and_audits(small_release, people):
    item = item_named(small_release, "Rollback rehearsed")
    item_tick(item=item, actor=people.alice, note="done")
    reopened = item_untick(
        item=item_named(small_release, "Rollback rehearsed"),
        actor=people.alice,
        reason="Rehearsal used the wrong artifact.",
    )
    assert reopened.status == ItemStatus.OPEN
    assert reopened.completed_by is None and reopened.completed_at is None and reopened.note == ""
    event = AuditEvent.objects.get(action="checklist.item_unticked")
    assert event.reason == "Rehearsal used the wrong artifact."
    assert (event.from_state, event.to_state) == ("done", "open")


def test_untick__after_the_gated_environment_was_entered__is_refused(
    small_release, people, envs, checklist_gates
):
    item = item_named(small_release, "Release branch cut")
    item_tick(item=item, actor=people.alice)
    deploy(small_release, envs["dev"], people.bob)
    release_promote(release=small_release, environment=envs["staging"], actor=people.bob)
    with pytest.raises(GateAlreadyPassed) as exc:
        item_untick(item=item_named(small_release, "Release branch cut"), actor=people.alice)
    assert "staging" in exc.value.message
    assert "Branch ready" in exc.value.message
    assert item_named(small_release, "Release branch cut").status == ItemStatus.DONE
    assert not AuditEvent.objects.filter(action="checklist.item_unticked").exists()


def test_untick__after_a_failed_attempt__is_allowed(small_release, people, envs, checklist_gates):
    item = item_named(small_release, "Release branch cut")
    item_tick(item=item, actor=people.alice)
    deploy(small_release, envs["dev"], people.bob)
    deploy(small_release, envs["staging"], people.bob, ok=False)
    assert (
        item_untick(item=item_named(small_release, "Release branch cut"), actor=people.alice).status
        == "open"
    )


def test_untick__by_someone_without_the_role__is_forbidden(small_release, people):
    item = item_named(small_release, "Regression suite green")
    item_tick(item=item, actor=people.quinn, evidence="run 1")
    with pytest.raises(PermissionDenied):
        item_untick(item=item_named(small_release, "Regression suite green"), actor=people.bob)


# --- Not applicable, ad-hoc items, actual output ---------------------------------------------


def test_not_applicable__by_release_manager__with_reason__resolves_item(small_release, people):
    item = item_named(small_release, "Regression suite green")
    marked = item_mark_not_applicable(
        item=item, actor=people.alice, reason="No code change in this release."
    )
    assert marked.status == ItemStatus.NOT_APPLICABLE
    assert marked.na_reason == "No code change in this release."
    event = AuditEvent.objects.get(action="checklist.item_not_applicable")
    assert event.reason == "No code change in this release."


def test_not_applicable__without_reason__is_refused(small_release, people):
    with pytest.raises(ValidationFailed):
        item_mark_not_applicable(
            item=item_named(small_release, "Rollback rehearsed"), actor=people.alice, reason=" "
        )


def test_not_applicable__by_qa__is_forbidden(small_release, people):
    with pytest.raises(PermissionDenied):
        item_mark_not_applicable(
            item=item_named(small_release, "Regression suite green"),
            actor=people.quinn,
            reason="Not needed",
        )


def test_not_applicable__restore__by_release_manager__reopens(small_release, people):
    item = item_named(small_release, "Rollback rehearsed")
    item_mark_not_applicable(item=item, actor=people.alice, reason="Config-only release.")
    restored = item_untick(item=item_named(small_release, "Rollback rehearsed"), actor=people.alice)
    assert restored.status == ItemStatus.OPEN and restored.na_reason == ""
    assert AuditEvent.objects.filter(action="checklist.item_restored").count() == 1


def test_item_add__adhoc_by_release_manager__is_appended_and_audited(small_release, people):
    step = item_named(small_release, "Rollback rehearsed").step
    added = item_add(
        step=step, actor=people.alice, text="Warn the payments partner", role="product_owner"
    )
    assert added.is_adhoc and added.added_by == people.alice
    assert list(step.items.order_by("position", "id"))[-1] == added
    event = AuditEvent.objects.get(action="checklist.item_added")
    assert event.data["item"] == "Warn the payments partner"


@pytest.mark.parametrize("username", ["bob", "quinn", "olga"])
def test_item_add__not_a_manager__is_refused(small_release, people, username):
    step = item_named(small_release, "Rollback rehearsed").step
    with pytest.raises((PermissionDenied, NotFound)):
        item_add(step=step, actor=getattr(people, username), text="Sneaky")
    assert not Item.objects.filter(text="Sneaky").exists()


def test_item_add__unknown_role_or_empty_text__is_refused(small_release, people):
    step = item_named(small_release, "Rollback rehearsed").step
    with pytest.raises(ValidationFailed):
        item_add(step=step, actor=people.alice, text="x", role="auditor")
    with pytest.raises(ValidationFailed):
        item_add(step=step, actor=people.alice, text="   ")


def test_step_output__by_item_owner__is_recorded_and_audited(small_release, people):
    step = item_named(small_release, "Regression suite green").step
    saved = step_record_output(
        step=step, actor=people.quinn, text="All 412 regression tests green on rc.3."
    )
    assert saved.actual_output.startswith("All 412")
    assert saved.actual_output_by == people.quinn
    assert AuditEvent.objects.filter(action="checklist.step_output_recorded").count() == 1


def test_step_output__by_someone_owning_nothing_there__is_forbidden(small_release, people):
    step = item_named(small_release, "Release branch cut").step
    with pytest.raises(PermissionDenied):
        step_record_output(step=step, actor=people.pat, text="hi")
