"""Issue 12, item 5: a release's tickets and commits read back through the API, paginated."""

from __future__ import annotations

from projects.choices import TokenScope
from releases.services import release_commits_add, release_tickets_add


def _attach(release, actor, tickets: int = 3, commits: int = 3) -> None:
    release_tickets_add(
        release=release,
        tickets=[
            {"key": f"PAY-{n}", "title": f"Ticket {n}", "url": f"https://jira.example.com/PAY-{n}"}
            for n in range(1, tickets + 1)
        ],
        actor=actor,
    )
    release_commits_add(
        release=release,
        commits=[
            {"sha": f"{n:07x}abcdef", "message": f"Change {n}", "author": "Bob <bob@example.com>"}
            for n in range(1, commits + 1)
        ],
        actor=actor,
    )


def test_tickets__member__reads_them_in_attach_order(api, people, release):
    _attach(release, people.alice)
    response = api(people.quinn).get(f"/api/v1/releases/{release.pk}/tickets/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert [t["key"] for t in body["results"]] == ["PAY-1", "PAY-2", "PAY-3"]
    assert body["results"][0]["title"] == "Ticket 1"
    assert body["results"][0]["url"] == "https://jira.example.com/PAY-1"


def test_commits__member__reads_them_in_attach_order(api, people, release):
    _attach(release, people.alice)
    response = api(people.aud).get(f"/api/v1/releases/{release.pk}/commits/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert [c["sha"] for c in body["results"]] == ["0000001abcdef", "0000002abcdef", "0000003abcdef"]
    assert body["results"][1]["message"] == "Change 2"
    assert body["results"][1]["author"] == "Bob <bob@example.com>"


def test_tickets_and_commits__paginate(api, people, release, django_assert_max_num_queries):
    _attach(release, people.alice, tickets=60, commits=60)
    client = api(people.quinn)
    with django_assert_max_num_queries(12):
        first = client.get(f"/api/v1/releases/{release.pk}/commits/")
    assert first.json()["count"] == 60
    assert len(first.json()["results"]) == 50
    assert first.json()["next"]
    second = client.get(f"/api/v1/releases/{release.pk}/tickets/", {"page": 2})
    assert [t["key"] for t in second.json()["results"]] == [f"PAY-{n}" for n in range(51, 61)]


def test_tickets__outsider__404(api, people, release):
    _attach(release, people.alice)
    for path in ("tickets", "commits"):
        response = api(people.olga).get(f"/api/v1/releases/{release.pk}/{path}/")
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"


def test_tickets__token_with_read_scope__reads_what_the_pipeline_attached(
    token_client, people, release
):
    client = token_client(TokenScope.READ, TokenScope.RELEASES)
    attach = client.post(
        f"/api/v1/ci/releases/{release.version}/tickets/",
        {"tickets": [{"key": "PAY-7", "title": "Saved cards"}]},
        format="json",
    )
    assert attach.status_code == 200, attach.json()
    response = client.get(f"/api/v1/releases/{release.pk}/tickets/")
    assert response.status_code == 200
    assert [t["key"] for t in response.json()["results"]] == ["PAY-7"]


def test_tickets__token_without_read_scope__403(token_client, release):
    response = token_client(TokenScope.RELEASES).get(f"/api/v1/releases/{release.pk}/tickets/")
    assert response.status_code == 403
