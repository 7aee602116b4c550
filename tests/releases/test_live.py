"""What is live where: the dashboard grid, the environments page, the project page, the banner."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from releases.choices import DeploymentStatus
from releases.models import Deployment
from releases.services import deployment_finish, release_create, release_promote

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _core_gates(gates_only):
    gates_only("releases")


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _deploy(release, env, actor, *, succeeded=True):
    deployment = release_promote(release=release, environment=env, actor=actor)
    return deployment_finish(deployment=deployment, succeeded=succeeded, actor=actor)


def _cell(body: str, project, env_name: str) -> str:
    match = re.search(
        rf'<td class="live-cell[^"]*"[^>]*id="live-{project.pk}-{env_name}">(.*?)</td>', body, re.S
    )
    assert match, f"no cell for {env_name}"
    return match.group(1)


@pytest.fixture
def two_versions(people, project, envs):
    old = release_create(
        project=project, version="2.3.0", title="Old", actor=people.alice, rollback_plan="x"
    )
    _deploy(old, envs["dev"], people.bob)
    _deploy(old, envs["staging"], people.bob)
    new = release_create(
        project=project, version="2.4.0", title="New", actor=people.alice, rollback_plan="x"
    )
    _deploy(new, envs["dev"], people.bob)
    return old, new


def test_dashboard_grid__shows_the_live_version_per_environment_and_what_is_next(
    people, project, two_versions
):
    body = _client(people.alice).get(reverse("dashboard")).content.decode()
    assert "What is live where" in body
    dev, staging, production = (_cell(body, project, n) for n in ("dev", "staging", "production"))
    assert "2.4.0" in dev and "live" in dev and "Bob" in dev and "UTC" in dev
    assert "2.3.0" in staging and "live" in staging
    # 2.4.0 succeeded in dev: it is the next for staging, with the promote action.
    assert "Promote 2.4.0" in staging and "#gates-staging" in staging
    assert "Nothing live yet" in production and "Promote 2.3.0" in production
    assert "10 live" not in body


def test_dashboard_grid__a_failed_deployment_shows_beside_what_still_runs(
    people, project, envs, two_versions
):
    _old, new = two_versions
    _deploy(new, envs["staging"], people.bob, succeeded=False)
    body = _client(people.alice).get(reverse("dashboard")).content.decode()
    staging = _cell(body, project, "staging")
    assert "2.3.0" in staging  # still what runs there
    assert "badge-failed" in staging and "2.4.0" in staging


def test_dashboard_grid__people_who_may_not_deploy_see_no_promote_button(
    people, project, two_versions
):
    body = _client(people.aud).get(reverse("dashboard")).content.decode()
    staging = _cell(body, project, "staging")
    assert "Promote 2.4.0" not in staging and "is next" in staging


def test_dashboard_grid__outsider_does_not_see_the_project(people, project, two_versions):
    body = _client(people.olga).get(reverse("dashboard")).content.decode()
    assert f'id="live-{project.pk}-dev"' not in body


def test_dashboard_grid__query_count_does_not_grow_with_releases(
    people, project, envs, two_versions, django_assert_max_num_queries
):
    client = _client(people.alice)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        client.get(reverse("dashboard"))
    baseline = len(ctx.captured_queries)
    for n in range(6):
        r = release_create(
            project=project,
            version=f"3.{n}.0",
            title=f"R{n}",
            actor=people.alice,
            rollback_plan="x",
        )
        _deploy(r, envs["dev"], people.bob)
        _deploy(r, envs["staging"], people.bob, succeeded=n % 2 == 0)
    with django_assert_max_num_queries(baseline):
        assert client.get(reverse("dashboard")).status_code == 200


def test_environments_page__history_per_environment_newest_first(people, project, two_versions):
    body = (
        _client(people.quinn)
        .get(reverse("releases:environments", args=[project.slug]))
        .content.decode()
    )
    assert "Environments of Payments" in body
    dev = body[body.index('id="env-dev"') : body.index('id="env-staging"')]
    assert dev.index("2.4.0") < dev.index("2.3.0")  # newest first
    assert "Live:" in dev and dev.index("Live:") < dev.index("2.4.0")
    production = body[body.index('id="env-production"') :]
    assert "No release has been deployed to Production yet." in production


def test_environments_page__outsider_and_unknown_project__404(people, project, two_versions):
    assert (
        _client(people.olga).get(reverse("releases:environments", args=[project.slug])).status_code
        == 404
    )
    assert (
        _client(people.alice).get(reverse("releases:environments", args=["nope"])).status_code
        == 404
    )


def test_environments_page__query_count_is_constant(
    people, project, envs, two_versions, django_assert_max_num_queries
):
    client = _client(people.alice)
    url = reverse("releases:environments", args=[project.slug])
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    baseline = len(ctx.captured_queries)
    for n in range(5):
        r = release_create(
            project=project,
            version=f"4.{n}.0",
            title=f"R{n}",
            actor=people.alice,
            rollback_plan="x",
        )
        _deploy(r, envs["dev"], people.bob)
    with django_assert_max_num_queries(baseline):
        body = client.get(url).content.decode()
    assert "4.4.0" in body


def test_project_page__shows_the_live_version_per_environment(people, project, two_versions):
    body = (
        _client(people.alice).get(reverse("projects:detail", args=[project.slug])).content.decode()
    )
    dev = body[body.index('id="env-live-dev"') : body.index('id="env-live-staging"')]
    assert "Live:" in dev and "2.4.0" in dev
    assert reverse("releases:environments", args=[project.slug]) in body


def test_release_page__failed_deployment__banner_at_the_top_with_roll_back(
    people, project, envs, two_versions
):
    _old, new = two_versions
    failed = _deploy(new, envs["staging"], people.bob, succeeded=False)
    body = _client(people.alice).get(reverse("releases:detail", args=[new.pk])).content.decode()
    banner = body[body.index('class="urgent-banner"') : body.index('class="card release-header')]
    assert "The deployment of 2.4.0 to Staging failed." in banner
    assert reverse("releases:deployment-rollback", args=[new.pk, failed.pk]) in banner
    assert "Roll back Staging" in banner
    # The staging gate column says why it is open again.
    assert "The last deployment here failed" in body


def test_release_page__banner_roll_back__records_the_rollback(people, project, envs, two_versions):
    _old, new = two_versions
    failed = _deploy(new, envs["staging"], people.bob, succeeded=False)
    client = _client(people.alice)
    response = client.post(
        reverse("releases:deployment-rollback", args=[new.pk, failed.pk]),
        {"reason": "Errors after deploy"},
    )
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status == DeploymentStatus.ROLLED_BACK
    body = client.get(reverse("releases:detail", args=[new.pk])).content.decode()
    assert 'class="urgent-banner"' not in body


def test_dashboard__failed_deployment__banner_names_the_release(
    people, project, envs, two_versions
):
    _old, new = two_versions
    _deploy(new, envs["staging"], people.bob, succeeded=False)
    body = _client(people.quinn).get(reverse("dashboard")).content.decode()
    banner = body[body.index('class="urgent-banner"') : body.index('class="stat-grid"')]
    assert "2.4.0" in banner and "failed" in banner
    # QA may not deploy: the banner has no roll back button for them, only the way there.
    assert "Roll back Staging" not in banner and "See the pipeline" in banner


def test_release_page__passed_environment__gates_read_as_history(people, project, two_versions):
    old, _new = two_versions
    body = _client(people.alice).get(reverse("releases:detail", args=[old.pk])).content.decode()
    dev = body[body.index('id="gates-dev"') : body.index('id="gates-staging"')]
    assert "Deployed" in dev and "closed</span>" not in dev
    assert Deployment.objects.filter(release=old, status="succeeded").count() == 2


def test_promote__a_deployment_starting_updates_the_release(people, project, envs, two_versions):
    _old, new = two_versions
    before = type(new).objects.get(pk=new.pk).updated_at
    release_promote(release=new, environment=envs["staging"], actor=people.bob)
    assert type(new).objects.get(pk=new.pk).updated_at > before
