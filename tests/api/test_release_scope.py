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
    assert [c["sha"] for c in body["results"]] == [
        "0000001abcdef",
        "0000002abcdef",
        "0000003abcdef",
    ]
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


# --- Removing a ticket (release_tickets_remove's caller) -------------------------------


def test_ticket_remove__release_manager__removes_it_and_invalidates_the_scope_approval(
    api, people, release
):
    from approvals.choices import ApprovalKind, ApprovalState, Decision
    from approvals.models import Approval
    from approvals.services import approval_decide
    from audit.models import AuditEvent
    from releases.models import Ticket

    _attach(release, people.alice, tickets=2, commits=0)
    scope = approval_decide(
        release=release, kind=ApprovalKind.SCOPE, decision=Decision.APPROVE, actor=people.pat
    )
    response = api(people.alice).delete(f"/api/v1/releases/{release.pk}/tickets/PAY-2/")
    assert response.status_code == 204
    assert list(Ticket.objects.filter(release=release).values_list("key", flat=True)) == ["PAY-1"]
    event = AuditEvent.objects.filter(action="release.scope_changed").latest("seq")
    assert event.data == {"added": [], "removed": ["PAY-2"]}
    assert Approval.objects.get(pk=scope.pk).state == ApprovalState.INVALIDATED


def test_ticket_remove__unknown_key__404_and_nothing_changes(api, people, release):
    from audit.models import AuditEvent

    _attach(release, people.alice, tickets=1, commits=0)
    before = AuditEvent.objects.count()
    response = api(people.alice).delete(f"/api/v1/releases/{release.pk}/tickets/NOPE-1/")
    assert response.status_code == 404
    assert "has no ticket NOPE-1" in response.json()["message"]
    assert AuditEvent.objects.count() == before


def test_ticket_remove__qa__403_and_outsider__404(api, people, release):
    from releases.models import Ticket

    _attach(release, people.alice, tickets=1, commits=0)
    assert (
        api(people.quinn).delete(f"/api/v1/releases/{release.pk}/tickets/PAY-1/").status_code == 403
    )
    assert (
        api(people.olga).delete(f"/api/v1/releases/{release.pk}/tickets/PAY-1/").status_code == 404
    )
    assert Ticket.objects.filter(release=release).count() == 1
