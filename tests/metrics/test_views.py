"""The metrics pages and API as a reader sees them: numbers, links, exports, bad input, speed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from metrics.models import MetricsSettings
from tests.metrics.conftest import at
from tests.metrics.test_golden import golden  # noqa: F401 - the fixture

RANGE = {"from": "2026-03-02", "to": "2026-03-15"}


@pytest.fixture
def alice_client(client, people):
    client.force_login(people.alice)
    return client


def test_dashboard__shows_each_number_linked_to_its_rows(golden, alice_client):  # noqa: F811
    page = alice_client.get(reverse("metrics:dashboard"), {**RANGE, "interval": "weekly"})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-metric="change_failure_rate">50.0 %</a>' in html
    assert "DORA 2024: low" in html
    assert "only=failure" in html
    assert "<svg" in html and 'data-bucket="2026-03-09"' in html
    assert "What counts" in html
    assert 'href="/delivery/"' in html  # the navigation entry


def test_project_page_and_settings_link(golden, alice_client, people):  # noqa: F811
    page = alice_client.get(reverse("metrics:project", args=["payments"]), RANGE)
    assert page.status_code == 200
    assert "Delivery metrics: Payments" in page.content.decode()
    alice_client.force_login(people.adam)  # the project page lists its pages for admins
    project_page = alice_client.get(reverse("projects:detail", args=["payments"])).content.decode()
    assert 'href="/projects/payments/delivery/"' in project_page


def test_chart_point_lists_the_deployments_of_that_week(golden, alice_client):  # noqa: F811
    page = alice_client.get(
        reverse("metrics:drill", args=["deployments"]),
        {"from": "2026-03-09", "to": "2026-03-15", "only": "failure"},
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert "2 rows" in html
    assert "followed by a hotfix" in html and "failed or rolled back" in html


def test_csv_export_streams_every_row(golden, alice_client):  # noqa: F811
    response = alice_client.get(
        reverse("metrics:drill-csv", args=["commits"]), {**RANGE, "only": "counted"}
    )
    assert response.status_code == 200 and response.streaming
    lines = b"".join(response.streaming_content).decode().strip().split("\r\n")
    assert lines[0].startswith("project,sha,committed_at")
    assert len(lines) == 1 + 7


def test_api__series_close_to_gitlab(golden, alice_client):  # noqa: F811
    body = alice_client.get(
        "/api/v1/metrics/",
        {"metric": "change_failure_rate", "interval": "weekly", "project": "payments", **RANGE},
    ).json()
    assert [(p["date"], p["value"]) for p in body["data"]] == [
        ("2026-03-02", 40.0),
        ("2026-03-09", 66.67),
    ]
    assert body["value"] == 50.0 and body["band"] == {"name": "low", "text": "40 %", "year": 2024}
    assert body["summary"]["failures"] == 4
    assert "only=failure" in body["data"][1]["url"]
    rows = alice_client.get(body["data"][1]["url"].replace("/delivery/", "/api/v1/metrics/"))
    assert rows.json()["count"] == 2


def test_api__drill_down_lists_page(golden, alice_client):  # noqa: F811
    body = alice_client.get(
        "/api/v1/metrics/deployments/", {**RANGE, "only": "all", "page_size": 3}
    ).json()
    assert (body["count"], body["pages"], len(body["results"])) == (8, 3, 3)
    assert body["next"].endswith("page=2") or "page=2" in body["next"]
    assert alice_client.get("/api/v1/metrics/definitions/").json()[0]["key"] == (
        "deployment_frequency"
    )


@pytest.mark.parametrize(
    ("params", "status", "needle"),
    [
        ({"metric": "velocity"}, 400, "Unknown metric 'velocity'"),
        ({}, 400, "Name a metric"),
        ({"metric": "rollback_rate", "from": "2026-03-10", "to": "2026-03-01"}, 400, "reversed"),
        ({"metric": "rollback_rate", "from": "yesterday"}, 400, "is not a date"),
        ({"metric": "rollback_rate", "interval": "hourly"}, 400, "Unknown interval"),
        ({"metric": "rollback_rate", "project": "other"}, 404, "No such project"),
        (
            {"metric": "rollback_rate", "project": "payments", "environment": "eu-prod"},
            400,
            "no environment 'eu-prod' in Payments",
        ),
    ],
)
def test_api__bad_input_is_a_clear_message(alice_client, people, params, status, needle):
    response = alice_client.get("/api/v1/metrics/", params)
    assert response.status_code == status
    assert needle in response.json()["message"]


def test_api__an_environment_of_another_project_is_refused(alice_client, people, other_project):
    foreign = other_project.environments.get(name="production")
    response = alice_client.get(
        "/api/v1/metrics/",
        {"metric": "rollback_rate", "project": "payments", "environment": str(foreign.pk)},
    )
    assert response.status_code == 400


def test_unbounded_range_is_capped_with_a_message(alice_client, people):
    body = alice_client.get(
        "/api/v1/metrics/", {"metric": "deployment_frequency", "from": "1990-01-01"}
    ).json()
    assert body["messages"] and "capped at 366 days" in body["messages"][0]
    page = alice_client.get(reverse("metrics:dashboard"), {"from": "1990-01-01"})
    assert page.status_code == 200 and "capped at 366 days" in page.content.decode()


def test_no_deployments__empty_states_not_errors(alice_client, people):
    page = alice_client.get(reverse("metrics:dashboard"))
    assert page.status_code == 200
    assert "No deployments in this range" in page.content.decode()
    for metric in ("change_failure_rate", "lead_time_for_changes", "bug_escape_rate"):
        body = alice_client.get(
            "/api/v1/metrics/", {"metric": metric, "interval": "monthly"}
        ).json()
        assert body["value"] is None and body["band"] is None
    drill = alice_client.get(reverse("metrics:drill", args=["deployments"]))
    assert "Nothing to list" in drill.content.decode()


def test_page_bad_input_is_a_message_in_the_page(alice_client, people):
    page = alice_client.get(reverse("metrics:dashboard"), {"interval": "hourly"})
    assert page.status_code == 400 and "Unknown interval" in page.content.decode()
    assert alice_client.get(reverse("metrics:drill", args=["nothing"])).status_code == 404
    csv = alice_client.get(reverse("metrics:drill-csv", args=["deployments"]), {"only": "x"})
    assert csv.status_code == 400


def test_outsider_sees_nothing_of_the_project(golden, client, people):  # noqa: F811
    client.force_login(people.olga)
    assert client.get(reverse("metrics:project", args=["payments"])).status_code == 404
    body = client.get("/api/v1/metrics/", {"metric": "rollback_rate", **RANGE}).json()
    assert body["projects"] == ["other"] and body["summary"]["deployments"] == 0


def test_review_is_a_printable_quarter(golden, alice_client):  # noqa: F811
    page = alice_client.get(reverse("metrics:review"), {"quarter": "2026-Q1"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "Quarterly metrics review 2026-Q1" in html and "2025-Q4" in html
    assert "window.print()" in html and "Mar 2026" in html
    assert alice_client.get(reverse("metrics:review"), {"quarter": "2026-Q5"}).status_code == 400


def test_release_page_compares_with_the_previous_release(golden, alice_client):  # noqa: F811
    release = golden["d"][5].release  # 1.2.1, after 1.2.0
    html = alice_client.get(reverse("releases:detail", args=[release.pk])).content.decode()
    assert "Compared with the previous release" in html
    assert "1.2.0" in html and "Lead time (median)" in html
    assert "Monitoring windows passed" in html and "better" in html


def test_settings__admin_changes_and_audits_engineer_may_not(client, people, project):
    client.force_login(people.bob)
    url = reverse("metrics:settings", args=["payments"])
    assert client.post(url, {}).status_code == 403
    client.force_login(people.adam)
    assert client.post(url, {}).status_code == 302
    assert MetricsSettings.objects.get(project=project).hotfix_is_rework is False
    assert AuditEvent.objects.filter(action="metrics.settings_changed").count() == 1


def _grow(history, n: int, offset: int):
    for i in range(n):
        release = history.release(
            f"9.{offset + i}.0",
            commits=[(f"{offset + i + 1:x}".rjust(12, "e"), at("2026-03-02 08:00"))],
        )
        history.ship(release, at("2026-03-04 10:00") + timedelta(hours=offset + i), 10)


def test_query_counts_do_not_grow_with_the_data(
    history, alice_client, django_assert_max_num_queries
):
    urls = [
        (reverse("metrics:dashboard"), {**RANGE, "interval": "daily"}),
        (reverse("metrics:drill", args=["deployments"]), RANGE),
        (reverse("metrics:drill", args=["commits"]), RANGE),
        ("/api/v1/metrics/", {**RANGE, "metric": "lead_time_for_changes"}),
        ("/api/v1/metrics/recoveries/", RANGE),
    ]
    limits = [32, 14, 14, 12, 12]
    for size in (1, 6):
        _grow(history, size if size == 1 else 5, offset=0 if size == 1 else 10)
        for (url, params), limit in zip(urls, limits, strict=True):
            with django_assert_max_num_queries(limit):
                assert alice_client.get(url, params).status_code == 200


def test_api__drill_down_list_as_csv(golden, alice_client):  # noqa: F811
    response = alice_client.get(
        "/api/v1/metrics/deployments/", {**RANGE, "only": "failure", "format": "csv"}
    )
    assert response.status_code == 200
    lines = b"".join(response.streaming_content).decode().strip().split("\r\n")
    assert lines[0].startswith("deployment_id,project,release_id") and len(lines) == 1 + 4


def test_api__a_token_reads_its_own_project_with_the_read_scope(golden, project, people):  # noqa: F811
    from rest_framework.test import APIClient

    from projects.services import api_token_create

    def client_with(*scopes):
        _token, plain = api_token_create(project=project, name="bi", scopes=scopes, actor=None)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
        return client

    reader = client_with("read")
    body = reader.get("/api/v1/metrics/", {"metric": "rollback_rate", **RANGE}).json()
    assert body["projects"] == ["payments"] and body["value"] == 12.5
    assert (
        reader.get("/api/v1/metrics/", {"metric": "rollback_rate", "project": "other"}).status_code
        == 404
    )
    writer = client_with("deployments")
    assert writer.get("/api/v1/metrics/", {"metric": "rollback_rate"}).status_code == 403
    assert APIClient().get("/api/v1/metrics/", {"metric": "rollback_rate"}).status_code in (
        401,
        403,
    )
