"""Release pages: what each person sees and what their clicks change."""

from __future__ import annotations

import re

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEvent
from audit.services import audit_record
from releases import registry
from releases.choices import DeploymentStatus, ReleaseStatus
from releases.models import Deployment, Release
from releases.services import deployment_finish, release_create, release_promote
from tests.factories import DeploymentFactory, ReleaseFactory

HTMX = {"HX-Request": "true"}
# The panels every app registered (checklists, approvals, monitoring …), taken at import.
APP_PANELS = registry.panels()


@pytest.fixture(autouse=True)
def _release_page_without_other_apps_panels(monkeypatch):
    """These tests are about the release page itself; ``app_panels`` brings the other apps' sections back."""
    monkeypatch.setattr(registry, "_panels", [])


@pytest.fixture
def app_panels(monkeypatch):
    monkeypatch.setattr(registry, "_panels", list(APP_PANELS))


@pytest.fixture
def core_gates(gates_only):
    """Only the releases app's own gates: these tests are about the pages, not other apps' rules."""
    gates_only("releases")


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _deployed_to_dev(release, envs, actor):
    deployment = release_promote(release=release, environment=envs["dev"], actor=actor)
    return deployment_finish(deployment=deployment, succeeded=True, actor=actor)


def _text(response) -> str:
    return response.content.decode()


# --- Dashboard -------------------------------------------------------------------------


def test_dashboard__anonymous__is_sent_to_login(client, db):
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_dashboard__shows_statuses_environments_and_my_attention(people, release, envs, core_gates):
    _deployed_to_dev(release, envs, people.alice)
    response = _client(people.alice).get(reverse("dashboard"))
    body = _text(response)
    assert response.status_code == 200
    assert "What is live where" in body and "Development" in body
    assert "Releases I manage" in body
    assert "Live in Development" in body
    assert 'class="stat stat-in_progress"' in body
    # The activity feed names what happened.
    assert "deployment started" in body


def test_dashboard__planned_release_due_soon_or_overdue__needs_attention(people, project):
    import datetime

    from django.utils import timezone

    today = timezone.localdate()
    release_create(
        project=project,
        version="6.0.0",
        title="Due soon",
        actor=people.alice,
        target_date=today + datetime.timedelta(days=2),
    )
    release_create(
        project=project,
        version="6.0.1",
        title="Overdue",
        actor=people.alice,
        target_date=today - datetime.timedelta(days=3),
    )
    release_create(
        project=project,
        version="6.0.2",
        title="Far away",
        actor=people.alice,
        target_date=today + datetime.timedelta(days=60),
    )
    page = _text(_client(people.alice).get(reverse("dashboard")))
    body = page[page.index("Releases I manage") : page.index("Deploying now")]
    assert "Due in 2 days and not deployed anywhere yet." in body
    assert "has passed." in body
    assert "Far away" not in body
    # Overdue (danger) comes before due soon (warning).
    assert body.index("Overdue") < body.index("Due soon")


def test_dashboard__person_without_projects__sees_empty_state(db):
    from tests.factories import UserFactory

    lonely = UserFactory(username="lonely")
    body = _text(_client(lonely).get(reverse("dashboard")))
    assert "You are not in a project yet" in body


def test_dashboard__does_not_show_other_projects(people, other_project):
    ReleaseFactory(
        project=other_project,
        version="9.9.9",
        title="Secret other thing",
        release_manager=people.olga,
    )
    body = _text(_client(people.alice).get(reverse("dashboard")))
    assert "Secret other thing" not in body


# --- Navigation and layout -------------------------------------------------------------


def test_layout__has_navigation_logout_form_and_csrf_headers(people, release):
    body = _text(_client(people.alice).get(reverse("releases:list")))
    assert 'href="/releases/"' in body and ">Releases</a>" in body
    assert 'class="current" aria-current="page">Releases' in body
    assert re.search(r'<form method="post" action="/logout/">', body)
    assert re.search(r"hx-headers='\{\"X-CSRFToken\": \"[^\"]+\"\}'", body)
    assert "django_htmx/htmx" in body


def test_layout__serves_htmx_2_from_static(people):
    from django.contrib.staticfiles import finders

    body = _text(_client(people.alice).get(reverse("dashboard")))
    src = re.search(r'<script src="/static/(django_htmx/htmx[^"]*\.js)"', body).group(1)
    with open(finders.find(src), encoding="utf-8") as handle:
        assert re.search(r'version:"2\.\d+\.\d+"', handle.read()), (
            "pin htmx 2.x (htmx 4 changed CSRF headers)"
        )


def test_login_page__is_styled_and_logs_in(client, people):
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert "Log in to Shipcheck" in _text(page)
    response = client.post(reverse("login"), {"username": "alice", "password": "pass"})
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")


def test_login_page__wrong_password__says_so(client, people):
    response = client.post(reverse("login"), {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert "alert-error" in _text(response)


def test_logout__is_a_post(people):
    client = _client(people.alice)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("dashboard")).status_code == 302


# --- Release list ----------------------------------------------------------------------


def test_list__shows_only_releases_of_my_projects(people, release, other_project):
    ReleaseFactory(
        project=other_project, version="9.9.9", title="Other project's", release_manager=people.olga
    )
    body = _text(_client(people.alice).get(reverse("releases:list")))
    assert "2.4.0" in body and "Faster checkout" in body
    assert "9.9.9" not in body


def test_list__filters_by_status_type_and_search(people, project):
    for version, title, type_ in [
        ("1.0.0", "Alpha feature", "minor"),
        ("1.0.1", "Beta fix", "patch"),
    ]:
        release_create(
            project=project, version=version, title=title, type=type_, actor=people.alice
        )
    client = _client(people.alice)
    assert "Beta fix" not in _text(client.get(reverse("releases:list"), {"q": "alpha"}))
    assert "Alpha feature" in _text(client.get(reverse("releases:list"), {"q": "alpha"}))
    body = _text(client.get(reverse("releases:list"), {"type": "patch"}))
    assert "Beta fix" in body and "Alpha feature" not in body
    body = _text(client.get(reverse("releases:list"), {"status": "released"}))
    assert "No release matches" in body


def test_list__htmx__answers_the_table_only(people, release):
    response = _client(people.alice).get(reverse("releases:list"), {"q": "2.4"}, headers=HTMX)
    body = _text(response)
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="release-table"')
    assert "<html" not in body


def test_list__htmx_history_restore__answers_the_whole_page(people, release):
    headers = {**HTMX, "HX-History-Restore-Request": "true"}
    body = _text(_client(people.alice).get(reverse("releases:list"), headers=headers))
    assert "<html" in body


@pytest.mark.parametrize(
    "query",
    [
        {"status": "bogus"},
        {"type": "x" * 500},
        {"project": "not-mine"},
        {"page": "abc"},
        {"page": "-4"},
        {"page": "99999999999999999999"},
        {"q": "x" * 5000},
        {"q": "nul\x00byte"},
    ],
)
def test_list__malformed_filters__are_ignored_not_500(people, release, query):
    response = _client(people.alice).get(reverse("releases:list"), query)
    assert response.status_code == 200


def test_list__paginates_by_25(people, project):
    for n in range(27):
        ReleaseFactory(
            project=project, version=f"0.{n}.0", title=f"Bulk {n}", release_manager=people.alice
        )
    client = _client(people.alice)
    first = _text(client.get(reverse("releases:list")))
    assert first.count('class="release-link"') == 25
    assert "page 1 of 2" in first
    second = _text(client.get(reverse("releases:list"), {"page": 2}))
    assert second.count('class="release-link"') == 2


def test_list__marks_emergency_releases(people, project):
    ReleaseFactory(
        project=project,
        version="3.0.1",
        title="Hot",
        release_manager=people.alice,
        is_emergency=True,
    )
    assert "badge-emergency" in _text(_client(people.alice).get(reverse("releases:list")))


def test_list__empty__invites_to_plan_one(people, project):
    body = _text(_client(people.alice).get(reverse("releases:list")))
    assert "No releases yet" in body and reverse("releases:create") in body


# --- Release page ------------------------------------------------------------------------


def test_detail__shows_pipeline_and_each_environments_gates_with_reasons(
    people, release, core_gates
):
    body = _text(_client(people.alice).get(reverse("releases:detail", args=[release.pk])))
    assert 'id="pipeline"' in body and 'id="gates"' in body
    assert 'id="gates-staging"' in body and 'id="gates-production"' in body
    assert "Not yet deployed successfully to Development." in body
    assert "Promote to Development" in body
    assert "Promote to Staging" not in body


def test_detail__outsider__gets_404(people, release):
    assert (
        _client(people.olga).get(reverse("releases:detail", args=[release.pk])).status_code == 404
    )


@pytest.mark.parametrize("pk", [0, 999999, 99999999999999999999])
def test_detail__missing_release__gets_404(people, release, pk):
    assert _client(people.alice).get(f"/releases/{pk}/").status_code == 404


def test_detail__auditor__sees_everything_but_no_action(people, release, envs, core_gates):
    _deployed_to_dev(release, envs, people.alice)
    response = _client(people.aud).get(reverse("releases:detail", args=[release.pk]))
    body = _text(response)
    assert response.status_code == 200
    assert "Promotion gates" in body and "Deployment history" in body
    for action in ("Promote to", "Mark succeeded", "Roll back", "Cancel release", ">Edit<"):
        assert action not in body


def test_detail__running_deployment__offers_finish_buttons(people, release, envs, core_gates):
    release_promote(release=release, environment=envs["dev"], actor=people.bob)
    body = _text(_client(people.bob).get(reverse("releases:detail", args=[release.pk])))
    assert "Mark succeeded" in body and "Mark failed" in body
    assert "A deployment of this release is in progress in Development." in body


def test_detail__renders_markdown_sanitized(people, project):
    release = release_create(
        project=project,
        version="5.0.0",
        title="Markdown",
        actor=people.alice,
        notes="**Bold** <script>alert(1)</script> [x](javascript:alert(2))",
        rollback_plan="1. Redeploy\n2. <img src=x onerror=alert(3)>",
    )
    body = _text(_client(people.alice).get(reverse("releases:detail", args=[release.pk])))
    assert "<strong>Bold</strong>" in body
    # Raw HTML is shown as the text it is, never as an element; unsafe links are not links.
    assert "<script>alert(1)" not in body
    assert "&lt;script&gt;alert(1)" in body
    assert 'href="javascript' not in body
    assert "<img src=x" not in body
    assert "&lt;img src=x onerror" in body


def test_detail__without_rollback_plan__warns(people, project):
    release = release_create(project=project, version="5.0.1", title="No plan", actor=people.alice)
    body = _text(_client(people.alice).get(reverse("releases:detail", args=[release.pk])))
    assert "No rollback plan is written" in body


def test_detail__htmx__answers_the_live_region(people, release):
    body = _text(
        _client(people.alice).get(reverse("releases:detail", args=[release.pk]), headers=HTMX)
    )
    assert 'id="release-live"' in body and "<html" not in body


def test_detail__renders_registered_panels_in_order_with_anchors(
    people, release, monkeypatch, settings
):
    _panel_templates(
        settings,
        {
            "test/panel_a.html": "A says {{ greeting }} about {{ release.version }}",
            "test/panel_b.html": "B here",
        },
    )
    monkeypatch.setattr(registry, "_panels", [])
    registry.panel(
        key="second",
        title="Second panel",
        template="test/panel_b.html",
        context=lambda release, request: {},
        order=20,
    )
    registry.panel(
        key="first",
        title="First panel",
        template="test/panel_a.html",
        context=lambda release, request: {"greeting": "hello"},
        order=10,
    )
    body = _text(_client(people.alice).get(reverse("releases:detail", args=[release.pk])))
    assert 'id="panel-first"' in body and 'id="panel-second"' in body
    assert body.index("First panel") < body.index("Second panel")
    assert "A says hello about 2.4.0" in body
    assert 'href="#panel-first"' in body


def test_detail__broken_panel__does_not_take_the_page_down(people, release, monkeypatch, settings):
    settings.TESTING = False
    settings.DEBUG = False

    def broken(release, request):
        raise RuntimeError("boom")

    monkeypatch.setattr(registry, "_panels", [])
    registry.panel(
        key="broken", title="Broken", template="releases/partials/field.html", context=broken
    )
    response = _client(people.alice).get(reverse("releases:detail", args=[release.pk]))
    assert response.status_code == 200
    assert "This section could not be shown just now." in _text(response)


def _panel_templates(settings, templates: dict[str, str]) -> None:
    engine = dict(settings.TEMPLATES[0])
    options = dict(engine["OPTIONS"])
    options["loaders"] = [
        ("django.template.loaders.locmem.Loader", templates),
        "django.template.loaders.filesystem.Loader",
        "django.template.loaders.app_directories.Loader",
    ]
    engine["APP_DIRS"] = False
    engine["OPTIONS"] = options
    settings.TEMPLATES = [engine]


# --- Actions ---------------------------------------------------------------------------------


def test_promote__htmx__starts_the_deployment_and_answers_the_fragment(
    people, release, envs, core_gates
):
    response = _client(people.alice).post(
        reverse("releases:promote", args=[release.pk]),
        {"environment": "dev", "strategy": "canary"},
        headers=HTMX,
    )
    body = _text(response)
    assert response.status_code == 200
    assert 'id="release-live"' in body and "<html" not in body
    assert "Deployment of 2.4.0 to Development started." in body
    deployment = Deployment.objects.get()
    assert (deployment.environment, deployment.status, deployment.strategy) == (
        envs["dev"],
        DeploymentStatus.IN_PROGRESS,
        "canary",
    )
    assert (
        AuditEvent.objects.filter(action="deployment.started", release_id=release.pk).count() == 1
    )


def test_promote__without_js__redirects_with_a_message(people, release, core_gates):
    client = _client(people.alice)
    response = client.post(
        reverse("releases:promote", args=[release.pk]),
        {"environment": "dev", "strategy": "all_at_once"},
    )
    assert response.status_code == 302
    page = _text(client.get(response["Location"]))
    assert "Deployment of 2.4.0 to Development started." in page


def test_promote__past_closed_gates__shows_every_reason_and_changes_nothing(
    people, release, core_gates
):
    events_before = AuditEvent.objects.count()
    response = _client(people.alice).post(
        reverse("releases:promote", args=[release.pk]),
        {"environment": "production", "strategy": "all_at_once"},
        headers=HTMX,
    )
    body = _text(response)
    assert response.status_code == 200
    assert "2.4.0 may not enter Production yet. Nothing changed." in body
    assert "Not yet deployed successfully to Staging." in body
    assert not Deployment.objects.exists()
    assert AuditEvent.objects.count() == events_before
    release.refresh_from_db()
    assert release.status == ReleaseStatus.PLANNED


def test_promote__past_closed_gates_without_js__flashes_the_reasons(people, release, core_gates):
    client = _client(people.alice)
    response = client.post(
        reverse("releases:promote", args=[release.pk]),
        {"environment": "staging", "strategy": "all_at_once"},
        follow=True,
    )
    body = _text(response)
    assert "may not enter Staging yet" in body
    assert "Not yet deployed successfully to Development." in body
    assert not Deployment.objects.exists()


@pytest.mark.parametrize(
    "data, message",
    [
        ({"environment": "moon", "strategy": "all_at_once"}, "Select a valid choice"),
        ({"environment": "dev", "strategy": "yolo"}, "Select a valid choice"),
        ({}, "This field is required"),
    ],
)
def test_promote__bad_input__shows_a_message_and_changes_nothing(
    people, release, core_gates, data, message
):
    response = _client(people.alice).post(
        reverse("releases:promote", args=[release.pk]), data, headers=HTMX
    )
    assert response.status_code == 200
    assert message in _text(response)
    assert not Deployment.objects.exists()


def test_promote__auditor__is_forbidden(people, release, core_gates):
    response = _client(people.aud).post(
        reverse("releases:promote", args=[release.pk]),
        {"environment": "dev", "strategy": "all_at_once"},
    )
    assert response.status_code == 403
    assert not Deployment.objects.exists()


def test_promote__outsider__gets_404(people, release, core_gates):
    response = _client(people.olga).post(
        reverse("releases:promote", args=[release.pk]),
        {"environment": "dev", "strategy": "all_at_once"},
    )
    assert response.status_code == 404
    assert not Deployment.objects.exists()


def test_promote__get__is_not_allowed(people, release):
    assert (
        _client(people.alice).get(reverse("releases:promote", args=[release.pk])).status_code == 405
    )


def test_finish__marks_the_running_deployment_succeeded(people, release, envs, core_gates):
    deployment = release_promote(release=release, environment=envs["dev"], actor=people.bob)
    response = _client(people.bob).post(
        reverse("releases:deployment-finish", args=[release.pk, deployment.pk]),
        {"outcome": "succeeded"},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "Deployment to Development marked succeeded." in _text(response)
    deployment.refresh_from_db()
    assert deployment.status == DeploymentStatus.SUCCEEDED
    # Staging's order gate opened: the page now offers the promotion.
    assert "Promote to Staging" in _text(response)


def test_finish__twice__explains_instead_of_failing(people, release, envs, core_gates):
    deployment = _deployed_to_dev(release, envs, people.bob)
    response = _client(people.bob).post(
        reverse("releases:deployment-finish", args=[release.pk, deployment.pk]),
        {"outcome": "succeeded"},
        headers=HTMX,
    )
    assert response.status_code == 200
    body = _text(response)
    assert "Nothing changed." in body
    assert "A deployment that is succeeded cannot become succeeded." in body
    deployment.refresh_from_db()
    assert deployment.status == DeploymentStatus.SUCCEEDED


def test_finish__bad_outcome__is_refused(people, release, envs, core_gates):
    deployment = release_promote(release=release, environment=envs["dev"], actor=people.bob)
    response = _client(people.bob).post(
        reverse("releases:deployment-finish", args=[release.pk, deployment.pk]),
        {"outcome": "maybe"},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "Select a valid choice" in _text(response)
    deployment.refresh_from_db()
    assert deployment.status == DeploymentStatus.IN_PROGRESS


def test_finish__deployment_of_another_release__gets_404(
    people, release, project, envs, core_gates
):
    other = release_create(project=project, version="2.5.0", title="Other", actor=people.alice)
    deployment = release_promote(release=other, environment=envs["dev"], actor=people.bob)
    response = _client(people.bob).post(
        reverse("releases:deployment-finish", args=[release.pk, deployment.pk]),
        {"outcome": "succeeded"},
    )
    assert response.status_code == 404
    deployment.refresh_from_db()
    assert deployment.status == DeploymentStatus.IN_PROGRESS


def test_rollback__needs_a_reason(people, release, envs, core_gates):
    deployment = _deployed_to_dev(release, envs, people.bob)
    client = _client(people.bob)
    url = reverse("releases:deployment-rollback", args=[release.pk, deployment.pk])
    response = client.post(url, {"reason": "  "}, headers=HTMX)
    assert "Say why the deployment is rolled back." in _text(response)
    deployment.refresh_from_db()
    assert deployment.status == DeploymentStatus.SUCCEEDED

    response = client.post(url, {"reason": "Errors doubled."}, headers=HTMX)
    assert "Deployment to Development rolled back." in _text(response)
    deployment.refresh_from_db()
    assert deployment.status == DeploymentStatus.ROLLED_BACK


def test_cancel__with_reason__cancels_and_hides_actions(people, release, core_gates):
    client = _client(people.alice)
    url = reverse("releases:cancel", args=[release.pk])
    response = client.post(url, {"reason": ""}, headers=HTMX)
    assert "Say why the release is cancelled." in _text(response)
    release.refresh_from_db()
    assert release.status == ReleaseStatus.PLANNED

    response = client.post(url, {"reason": "Superseded by 2.5.0."}, headers=HTMX)
    body = _text(response)
    assert "Release 2.4.0 cancelled." in body
    assert "The release was cancelled." in body  # the release_open gate now says so
    assert "Promote to" not in body and "Cancel release" not in body
    release.refresh_from_db()
    assert release.status == ReleaseStatus.CANCELLED
    assert AuditEvent.objects.filter(action="release.status_changed", to_state="cancelled").exists()


def test_cancel__engineer__is_forbidden(people, release):
    response = _client(people.bob).post(
        reverse("releases:cancel", args=[release.pk]), {"reason": "no"}
    )
    assert response.status_code == 403
    release.refresh_from_db()
    assert release.status == ReleaseStatus.PLANNED


# --- CSRF ---------------------------------------------------------------------------------------


def test_actions__without_csrf_token__are_refused(people, release, core_gates):
    client = Client(enforce_csrf_checks=True)
    client.force_login(people.alice)
    response = client.post(
        reverse("releases:promote", args=[release.pk]),
        {"environment": "dev", "strategy": "all_at_once"},
        headers=HTMX,
    )
    assert response.status_code == 403
    assert not Deployment.objects.exists()
    response = client.post(
        reverse("releases:create"),
        {
            "project": release.project_id,
            "version": "9.0.0",
            "title": "Forged",
            "type": "minor",
            "release_manager": people.alice.pk,
        },
    )
    assert response.status_code == 403
    assert not Release.objects.filter(version="9.0.0").exists()


def test_actions__with_forged_csrf_token__are_refused(people, release, core_gates):
    client = Client(enforce_csrf_checks=True)
    client.force_login(people.alice)
    client.get(reverse("releases:detail", args=[release.pk]))
    response = client.post(
        reverse("releases:promote", args=[release.pk]),
        {"environment": "dev", "strategy": "all_at_once"},
        headers={**HTMX, "X-CSRFToken": "x" * 64},
    )
    assert response.status_code == 403
    assert not Deployment.objects.exists()


def test_actions__with_the_header_htmx_sends__work(people, release, core_gates):
    client = Client(enforce_csrf_checks=True)
    client.force_login(people.alice)
    page = _text(client.get(reverse("releases:detail", args=[release.pk])))
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    response = client.post(
        reverse("releases:promote", args=[release.pk]),
        {"environment": "dev", "strategy": "all_at_once"},
        headers={**HTMX, "X-CSRFToken": token},
    )
    assert response.status_code == 200
    assert Deployment.objects.count() == 1


# --- Create and edit ---------------------------------------------------------------------------


def _release_data(project, manager, **overrides) -> dict:
    data = {
        "project": project.pk,
        "version": "3.1.0",
        "title": "Wallets",
        "type": "minor",
        "release_manager": manager.pk,
        "target_date": "",
        "description": "",
        "notes": "",
        "rollback_plan": "Redeploy 3.0.",
        "artifact_version": "",
        "commit_sha": "",
    }
    data.update(overrides)
    return data


def test_create__offers_only_projects_where_i_may_create(people, project, other_project):
    from projects.models import Membership

    Membership.objects.create(project=other_project, user=people.bob, role="auditor")
    body = _text(_client(people.bob).get(reverse("releases:create")))
    chooser = re.search(r'<select name="project".*?</select>', body, re.S).group(0)
    assert "Payments" in chooser
    assert "Other" not in chooser


def test_create__manager_choices_are_project_members(people, project):
    body = _text(_client(people.alice).get(reverse("releases:create")))
    assert "alice" in body and "quinn" in body
    assert "olga" not in body


def test_create__auditor__is_forbidden(people, project):
    assert _client(people.aud).get(reverse("releases:create")).status_code == 403


def test_create__valid__creates_and_redirects_to_the_release(people, project):
    response = _client(people.alice).post(
        reverse("releases:create"), _release_data(project, people.bob)
    )
    release = Release.objects.get(version="3.1.0")
    assert response.status_code == 302
    assert response["Location"] == release.get_absolute_url()
    assert release.release_manager == people.bob
    assert release.created_by == people.alice
    assert AuditEvent.objects.filter(action="release.created", release_id=release.pk).exists()


def test_create__htmx_submit__answers_hx_location(people, project):
    response = _client(people.alice).post(
        reverse("releases:create"), _release_data(project, people.alice), headers=HTMX
    )
    assert response.status_code == 204
    assert response["HX-Location"] == Release.objects.get(version="3.1.0").get_absolute_url()


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"version": "1.0"}, "version", "is not a semantic version"),
        ({"version": ""}, "version", "This field is required"),
        ({"version": "v" + "9" * 80}, "version", "at most 64 characters"),
        ({"title": ""}, "title", "This field is required"),
        ({"type": "giant"}, "type", "Select a valid choice"),
        ({"target_date": "31/31/2024"}, "target_date", "Enter a valid date"),
        ({"commit_sha": "not-a-sha!"}, "commit_sha", "git commit hash"),
        ({"title": "nul\x00"}, "title", "Null characters are not allowed"),
    ],
)
def test_create__bad_input__shows_the_error_next_to_the_field(
    people, project, overrides, field, message
):
    response = _client(people.alice).post(
        reverse("releases:create"), _release_data(project, people.alice, **overrides)
    )
    assert response.status_code == 200
    body = _text(response)
    assert message in body
    row = re.search(rf'<div class="form-row has-error[^"]*" id="row-{field}">', body)
    assert row, f"{field} should be marked with its error"
    assert not Release.objects.exists()


def test_create__duplicate_version__is_shown_at_the_version(people, project, release):
    response = _client(people.alice).post(
        reverse("releases:create"), _release_data(project, people.alice, version="v2.4.0")
    )
    assert response.status_code == 200
    assert "Version 2.4.0 already exists in Payments." in _text(response)
    assert Release.objects.count() == 1


def test_create__manager_from_another_project__is_refused(people, project):
    response = _client(people.alice).post(
        reverse("releases:create"), _release_data(project, people.olga)
    )
    assert response.status_code == 200
    assert "Select a valid choice" in _text(response)
    assert not Release.objects.exists()


def test_create__project_i_cannot_use__is_refused(people, project, other_project):
    response = _client(people.alice).post(
        reverse("releases:create"),
        {**_release_data(project, people.alice), "project": other_project.pk},
    )
    assert response.status_code == 200
    assert not Release.objects.exists()


def test_create__htmx_validation__marks_touched_fields_only_and_saves_nothing(people, project):
    data = {"project": project.pk, "version": "1.0", "_validate": "1"}
    response = _client(people.alice).post(
        reverse("releases:create"), data, headers={**HTMX, "HX-Trigger-Name": "version"}
    )
    body = _text(response)
    assert response.status_code == 200
    assert '<form id="release-form"' in body and "<html" not in body
    assert "is not a semantic version" in body
    assert "This field is required" not in body  # the title was not touched yet
    assert not Release.objects.exists()


def test_edit__prefills_and_saves_through_the_service(people, release):
    client = _client(people.alice)
    page = _text(client.get(reverse("releases:edit", args=[release.pk])))
    assert 'value="Faster checkout"' in page
    data = _release_data(
        release.project,
        people.alice,
        version="2.4.0",
        title="Faster, safer checkout",
        rollback_plan=release.rollback_plan,
    )
    data.pop("project")
    response = client.post(reverse("releases:edit", args=[release.pk]), data)
    assert response.status_code == 302
    release.refresh_from_db()
    assert release.title == "Faster, safer checkout"
    assert AuditEvent.objects.filter(action="release.updated", release_id=release.pk).exists()


def test_edit__duplicate_version__is_shown_at_the_version(people, release, project):
    release_create(project=project, version="2.5.0", title="Next", actor=people.alice)
    data = _release_data(project, people.alice, version="2.5.0")
    data.pop("project")
    response = _client(people.alice).post(reverse("releases:edit", args=[release.pk]), data)
    assert response.status_code == 200
    assert "Version 2.5.0 already exists" in _text(response)
    release.refresh_from_db()
    assert release.version == "2.4.0"


def test_edit__cancelled_release__explains_why_not(people, release):
    from releases.services import release_cancel

    release_cancel(release=release, actor=people.alice, reason="Dropped.")
    data = _release_data(release.project, people.alice, version="2.4.0")
    data.pop("project")
    response = _client(people.alice).post(reverse("releases:edit", args=[release.pk]), data)
    assert response.status_code == 200
    assert "A cancelled release cannot be edited." in _text(response)


def test_edit__auditor_gets_403_and_outsider_404(people, release):
    assert _client(people.aud).get(reverse("releases:edit", args=[release.pk])).status_code == 403
    assert _client(people.olga).get(reverse("releases:edit", args=[release.pk])).status_code == 404


# --- Query counts --------------------------------------------------------------------------------


def _grow(
    project, manager, *, releases: int, deployments_each: int, events_each: int, major: int = 7
) -> Release:
    """Many releases, each with many finished deployments and audit events; returns one of them."""
    envs = list(project.environments.order_by("order"))
    made = []
    for n in range(releases):
        release = ReleaseFactory(
            project=project,
            version=f"{major}.{n}.0",
            title=f"Grown {n}",
            release_manager=manager,
            is_emergency=(n % 5 == 0),
        )
        for d in range(deployments_each):
            DeploymentFactory(
                release=release,
                environment=envs[d % len(envs)],
                status=DeploymentStatus.SUCCEEDED if d % 3 else DeploymentStatus.FAILED,
            )
        with transaction.atomic():
            for e in range(events_each):
                audit_record(
                    actor=manager,
                    action="release.updated",
                    obj=release,
                    project=project,
                    release=release,
                    data={"n": e},
                )
        made.append(release)
    return made[0]


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_queries__release_page__constant_as_data_grows(
    people, project, django_assert_max_num_queries, core_gates
):
    client = _client(people.alice)
    small = _grow(project, people.alice, releases=1, deployments_each=2, events_each=2)
    baseline = _count_queries(client, reverse("releases:detail", args=[small.pk]))
    big = _grow_more(project, people.alice)
    with django_assert_max_num_queries(baseline):
        assert client.get(reverse("releases:detail", args=[big.pk])).status_code == 200


def _grow_more(project, manager) -> Release:
    envs = list(project.environments.order_by("order"))
    release = ReleaseFactory(
        project=project, version="8.0.0", title="Busy", release_manager=manager
    )
    for d in range(30):
        DeploymentFactory(
            release=release,
            environment=envs[d % len(envs)],
            status=DeploymentStatus.SUCCEEDED if d % 3 else DeploymentStatus.FAILED,
        )
    for n in range(15):
        release.tickets.create(key=f"PAY-{n}", title=f"Ticket {n}")
        release.commits.create(sha=f"{n:07x}abc", message=f"Commit {n}")
        release.test_runs.create(name=f"suite {n}", total=10, failures=n % 2)
    with transaction.atomic():
        for e in range(40):
            audit_record(
                actor=manager,
                action="release.updated",
                obj=release,
                project=project,
                release=release,
                data={"n": e},
            )
    _grow(project, manager, releases=30, deployments_each=6, events_each=3, major=9)
    return release


def test_queries__release_page_with_every_apps_panel__constant_as_data_grows(
    people, project, django_assert_max_num_queries, app_panels
):
    client = _client(people.alice)
    small = _grow(project, people.alice, releases=1, deployments_each=2, events_each=2)
    baseline = _count_queries(client, reverse("releases:detail", args=[small.pk]))
    big = _grow_more(project, people.alice)
    with django_assert_max_num_queries(baseline):
        body = _text(client.get(reverse("releases:detail", args=[big.pk])))
    for panel in APP_PANELS:
        assert f'id="panel-{panel.key}"' in body


def test_queries__release_list__constant_as_data_grows(
    people, project, django_assert_max_num_queries
):
    client = _client(people.alice)
    _grow(project, people.alice, releases=2, deployments_each=1, events_each=1)
    baseline = _count_queries(client, reverse("releases:list"))
    _grow_more(project, people.alice)
    with django_assert_max_num_queries(baseline):
        assert client.get(reverse("releases:list")).status_code == 200
    with django_assert_max_num_queries(baseline):
        assert client.get(reverse("releases:list"), {"page": 2}).status_code == 200


def test_queries__dashboard__constant_as_data_grows(people, project, django_assert_max_num_queries):
    client = _client(people.alice)
    _grow(project, people.alice, releases=1, deployments_each=1, events_each=1)
    baseline = _count_queries(client, reverse("dashboard"))
    _grow_more(project, people.alice)
    with django_assert_max_num_queries(baseline):
        assert client.get(reverse("dashboard")).status_code == 200
