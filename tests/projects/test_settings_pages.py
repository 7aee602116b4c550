"""Project settings pages and the first-run page: forms work without JavaScript, refusals
are shown in the page (200) with nothing changed, outsiders get 404 and members 403."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from projects.models import Environment, Membership, Project


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_user(
        "root", "root@example.com", "pass", is_staff=True, is_superuser=True
    )


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _names(project):
    return list(
        Environment.objects.filter(project=project, retired_at__isnull=True)
        .order_by("order")
        .values_list("name", flat=True)
    )


def _env_rows(rows):
    data = {"env-TOTAL_FORMS": str(len(rows)), "env-INITIAL_FORMS": "0"}
    for index, (name, display, tier) in enumerate(rows):
        data[f"env-{index}-name"] = name
        data[f"env-{index}-display_name"] = display
        data[f"env-{index}-tier"] = tier
    return data


# --- first run ------------------------------------------------------------------------------


def test_first_run__login_redirects_to_setup_which_creates_the_staff_admin(db):
    client = Client()
    response = client.get(reverse("login"))
    assert response.status_code == 302 and response["Location"] == reverse("projects:setup")
    page = client.get(reverse("projects:setup"))
    assert page.status_code == 200
    assert b"Set up Shipcheck" in page.content

    response = client.post(
        reverse("projects:setup"),
        {
            "username": "ops",
            "email": "ops@example.com",
            "password1": "a long pass phrase 42",
            "password2": "a long pass phrase 42",
        },
    )

    assert response.status_code == 302 and response["Location"] == reverse("projects:create")
    ops = get_user_model().objects.get()
    assert ops.is_staff and ops.is_superuser and ops.check_password("a long pass phrase 42")
    assert AuditEvent.objects.filter(action="user.first_admin_created").exists()
    # Signed in: the new-project page opens; the setup page is gone for good.
    assert client.get(reverse("projects:create")).status_code == 200
    assert Client().get(reverse("projects:setup")).status_code == 404
    assert Client().get(reverse("login")).status_code == 200


def test_first_run__weak_or_mismatched_password__shown_in_the_page(db):
    client = Client()
    weak = client.post(
        reverse("projects:setup"),
        {"username": "ops", "password1": "123", "password2": "123"},
    )
    assert weak.status_code == 200
    assert b"too short" in weak.content or b"too common" in weak.content
    differ = client.post(
        reverse("projects:setup"),
        {"username": "ops", "password1": "a long pass phrase 42", "password2": "other phrase 42!"},
    )
    assert differ.status_code == 200 and b"The two passwords differ" in differ.content
    assert not get_user_model().objects.exists()


def test_dashboard__staff_in_no_project__links_to_create_a_project(staff):
    body = _client(staff).get(reverse("dashboard")).content.decode()
    assert "Start by creating a project" in body
    assert reverse("projects:create") in body


def test_dashboard__person_in_no_project__asks_an_admin(db):
    nobody = get_user_model().objects.create_user("nobody", password="pass")
    body = _client(nobody).get(reverse("dashboard")).content.decode()
    assert "Ask your Shipcheck administrator" in body
    assert reverse("projects:create") not in body


# --- new project ---------------------------------------------------------------------------


def test_new_project__staff_creates_four_environments_without_js(staff):
    client = _client(staff)
    page = client.get(reverse("projects:create"))
    assert page.status_code == 200
    assert page.content.count(b'name="env-0-name"') == 1 and b'value="staging"' in page.content

    data = {"name": "Ledger", "slug": "", "description": "Books"}
    data.update(
        _env_rows(
            [
                ("dev", "Development", "development"),
                ("qa", "QA", "testing"),
                ("staging", "Staging", "staging"),
                ("production", "Production", "production"),
                ("", "", ""),
                ("", "", ""),
            ]
        )
    )
    response = client.post(reverse("projects:create"), data)

    assert response.status_code == 302
    project = Project.objects.get(slug="ledger")
    assert response["Location"] == reverse("projects:settings-people", args=["ledger"])
    assert _names(project) == ["dev", "qa", "staging", "production"]
    assert project.environments.get(name="qa").tier == "testing"


def test_new_project__duplicate_slug_or_bad_tier__shown_at_200_nothing_created(staff, project):
    client = _client(staff)
    data = {"name": "Again", "slug": "payments"}
    data.update(_env_rows([("dev", "", "development")]))
    response = client.post(reverse("projects:create"), data)
    assert response.status_code == 200
    assert b"already exists" in response.content
    data = {"name": "Other two", "slug": "two"}
    data.update(_env_rows([("dev", "", "development"), ("dev", "", "staging")]))
    response = client.post(reverse("projects:create"), data)
    assert response.status_code == 200 and b"appears twice" in response.content
    data.update(_env_rows([("dev", "", "moon")]))
    response = client.post(reverse("projects:create"), data)
    assert response.status_code == 200 and b"not created" in response.content
    assert not Project.objects.filter(slug="two").exists()


def test_new_project__project_admin_who_is_not_staff__403(people):
    assert _client(people.adam).get(reverse("projects:create")).status_code == 403


# --- settings -------------------------------------------------------------------------------


def test_settings__outsider_404_member_403_admin_200(people, project):
    for name in ("projects:settings", "projects:settings-environments", "projects:settings-people"):
        url = reverse(name, args=[project.slug])
        assert _client(people.olga).get(url).status_code == 404
        assert _client(people.aud).get(url).status_code == 403
        assert _client(people.alice).get(url).status_code == 403
        assert _client(people.adam).get(url).status_code == 200


def test_settings__staff_not_a_member__may_manage(staff, project):
    assert _client(staff).get(reverse("projects:settings", args=[project.slug])).status_code == 200


def test_settings__rename_and_archive(people, project):
    client = _client(people.adam)
    url = reverse("projects:settings", args=[project.slug])
    client.post(url, {"intent": "update", "name": "Payments EU", "description": ""})
    project.refresh_from_db()
    assert project.name == "Payments EU"
    response = client.post(url, {"intent": "archive", "reason": "Closed down"}, follow=True)
    assert b"is archived" in response.content
    project.refresh_from_db()
    assert project.is_archived and project.archived_reason == "Closed down"
    listed = client.get(reverse("projects:list")).content.decode()
    assert "Payments EU" not in listed and "Show 1 archived project" in listed
    assert "Payments EU" in client.get(reverse("projects:list") + "?archived=1").content.decode()


def test_settings__empty_name__shown_at_200(people, project):
    response = _client(people.adam).post(
        reverse("projects:settings", args=[project.slug]), {"intent": "update", "name": ""}
    )
    assert response.status_code == 200
    project.refresh_from_db()
    assert project.name == "Payments"


def test_environments_page__add_rename_move_reorder_retire(people, project):
    client = _client(people.adam)
    base = reverse("projects:settings-environments", args=[project.slug])
    added = client.post(
        base, {"name": "qa", "display_name": "QA", "tier": "testing", "position": "2"}
    )
    assert added.status_code == 302
    assert _names(project) == ["dev", "qa", "staging", "production"]

    client.post(
        reverse("projects:settings-environment-edit", args=[project.slug, "qa"]),
        {"env-qa-display_name": "Quality", "env-qa-tier": "staging"},
    )
    qa = Environment.objects.get(project=project, name="qa")
    assert (qa.display_name, qa.tier) == ("Quality", "staging")

    client.post(
        reverse("projects:settings-environment-move", args=[project.slug, "qa"]),
        {"direction": "down"},
    )
    assert _names(project) == ["dev", "staging", "qa", "production"]

    client.post(
        reverse("projects:settings-environment-reorder", args=[project.slug]),
        {
            "position-dev": "1",
            "position-qa": "2",
            "position-staging": "3",
            "position-production": "4",
        },
    )
    assert _names(project) == ["dev", "qa", "staging", "production"]

    client.post(
        reverse("projects:settings-environment-retire", args=[project.slug, "staging"]),
        {"reason": "Not needed"},
    )
    assert _names(project) == ["dev", "qa", "production"]
    page = client.get(base).content.decode()
    assert "Not needed" in page  # listed among the retired ones


def test_environments_page__bad_input__shown_at_200_nothing_changed(people, project):
    client = _client(people.adam)
    base = reverse("projects:settings-environments", args=[project.slug])
    taken = client.post(base, {"name": "staging", "tier": "staging"})
    assert taken.status_code == 200 and b"already has an environment named" in taken.content
    repeated = client.post(
        reverse("projects:settings-environment-reorder", args=[project.slug]),
        {"position-dev": "1", "position-staging": "1", "position-production": "3"},
    )
    assert repeated.status_code == 200 and b"each used once" in repeated.content
    garbage = client.post(
        reverse("projects:settings-environment-reorder", args=[project.slug]),
        {"position-dev": "x"},
    )
    assert garbage.status_code == 200
    tier = client.post(
        reverse("projects:settings-environment-edit", args=[project.slug, "dev"]),
        {"env-dev-display_name": "Dev", "env-dev-tier": "moon"},
    )
    assert tier.status_code == 200 and b"was not changed" in tier.content
    assert _names(project) == ["dev", "staging", "production"]
    assert not AuditEvent.objects.exists()


def test_environments_page__retire_with_running_deployment__shown_at_200(
    people, release, envs, gates_only
):
    from releases.services import release_promote

    gates_only("releases")
    release_promote(release=release, environment=envs["dev"], actor=people.alice)
    response = _client(people.adam).post(
        reverse("projects:settings-environment-retire", args=["payments", "dev"]), {"reason": ""}
    )
    assert response.status_code == 200
    assert b"finish it before retiring" in response.content


def test_people_page__add_by_email_then_remove_with_reason(people, project):
    get_user_model().objects.create_user("nina", "nina@example.com", "pass")
    client = _client(people.adam)
    url = reverse("projects:settings-people", args=[project.slug])
    response = client.post(url, {"person": "nina@example.com", "role": "qa", "reason": "Tester"})
    assert response.status_code == 302
    nina = get_user_model().objects.get(username="nina")
    assert Membership.objects.filter(project=project, user=nina, role="qa").exists()
    page = client.get(url).content.decode()
    assert "nina@example.com" in page
    client.post(
        reverse("projects:settings-people-remove", args=[project.slug]),
        {"user": nina.pk, "role": "qa", "reason": "Moved team"},
    )
    assert not Membership.objects.filter(user=nina).exists()
    event = AuditEvent.objects.get(action="membership.revoked")
    assert (event.actor_label, event.reason) == ("adam", "Moved team")


def test_people_page__unknown_person_and_last_admin__shown_at_200(people, project):
    client = _client(people.adam)
    url = reverse("projects:settings-people", args=[project.slug])
    unknown = client.post(url, {"person": "ghost", "role": "qa"})
    assert unknown.status_code == 200 and b"Nobody with the username" in unknown.content
    last = client.post(
        reverse("projects:settings-people-remove", args=[project.slug]),
        {"user": people.adam.pk, "role": "admin"},
    )
    assert last.status_code == 200 and b"last project admin" in last.content
    garbage = client.post(
        reverse("projects:settings-people-remove", args=[project.slug]), {"user": "x", "role": "?"}
    )
    assert garbage.status_code == 200


def test_people_page__query_count_is_constant(people, project, django_assert_max_num_queries):
    client = _client(people.adam)
    url = reverse("projects:settings-people", args=[project.slug])
    client.get(url)
    with django_assert_max_num_queries(12):
        assert client.get(url).status_code == 200


def test_project_page__admin_sees_the_settings_links(people, project):
    body = (
        _client(people.adam).get(reverse("projects:detail", args=[project.slug])).content.decode()
    )
    assert reverse("projects:settings-environments", args=[project.slug]) in body
    assert reverse("projects:settings-people", args=[project.slug]) in body


def test_project_page__archived__says_so_and_offers_no_new_release(people, project):
    from projects.services import project_archive

    project_archive(project=project, actor=people.adam, reason="Replaced by Ledger")
    body = _client(people.alice).get(reverse("projects:detail", args=[project.slug])).content
    assert b"Archived" in body and b"Replaced by Ledger" in body
    assert b"+ New release" not in body
