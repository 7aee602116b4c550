"""Every API write asks the caller's right before it reads the body.

For each write endpoint: the auditor (who reads everything and changes
nothing) sending an invalid body, or an empty one, is refused with 403, never
told what is wrong with the body; a token without the scope the endpoint needs
gets 403 too; someone allowed to do it gets the 400 for the same invalid body;
a member of another project gets 404, as for a missing object. None of these
requests changes a row (refusals the approvals app writes to the audit trail,
``approval.denied``, are the record of the refusal and are looked at apart).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.utils import timezone

from audit.models import AuditEvent
from integrations.models import IdempotencyKey
from projects.choices import Role, TokenScope
from projects.models import Membership
from tests.factories import DeploymentFactory

pytestmark = pytest.mark.usefixtures("core_gates")

DOMAIN_APPS = (
    "core",
    "audit",
    "projects",
    "releases",
    "checklists",
    "approvals",
    "monitoring",
    "integrations",
)
# Columns a request may touch without changing anything a person would call data.
VOLATILE = {"last_login", "last_used_at"}
ALL_SCOPES = tuple(TokenScope.values)


def _rows() -> dict[str, str]:
    """A digest of every domain table (and the users); recorded refusals are left out."""
    digests = {}
    User = get_user_model()
    for model in apps.get_models():
        if model._meta.app_label not in DOMAIN_APPS and model is not User:
            continue
        qs = model.objects.all()
        if model is AuditEvent:
            qs = qs.exclude(action__endswith=".denied")
        names = [f.attname for f in model._meta.concrete_fields if f.attname not in VOLATILE]
        rows = list(qs.order_by("pk").values_list(*names))
        digests[model._meta.label] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return digests


def _changed(before: dict[str, str]) -> list[str]:
    after = _rows()
    return [label for label, digest in before.items() if after[label] != digest]


def _send(client, method: str, url: str, body, headers: dict | None = None):
    raw = body if isinstance(body, bytes) else json.dumps(body)
    return getattr(client, method)(url, raw, content_type="application/json", headers=headers or {})


def _refusal(response, status: int, body) -> dict:
    """The API's one error shape, about the caller's right and not about the body."""
    assert response.status_code == status, response.content
    payload = response.json()
    assert set(payload) == {"error", "message", "details"}
    assert payload["message"]
    if isinstance(body, dict):
        assert not set(payload["details"]) & set(body), "the refusal talks about the body"
    return payload


@pytest.fixture
def world(release, envs, people, project):
    """Release 2.4.0 (alice's) with its checklist, a deployment running in staging, a go/no-go
    meeting for production, ada's production approval, and a hotfix 2.4.1 for the emergency path."""
    from approvals.models import Approval
    from approvals.services import meeting_schedule
    from checklists.models import Item, Step
    from releases.services import release_create

    step = Step.objects.filter(checklist__release=release).order_by("pk").first()
    assert step is not None, "the release should start with a checklist"
    DeploymentFactory(
        release=release, environment=envs["dev"], status="succeeded", deployed_by=people.bob
    )
    running = DeploymentFactory(
        release=release,
        environment=envs["staging"],
        status="in_progress",
        deployed_by=people.bob,
        started_at=timezone.now() - timedelta(minutes=5),
    )
    meeting = meeting_schedule(
        release=release,
        environment=envs["production"],
        scheduled_for=timezone.now(),
        actor=people.alice,
    )
    approval = Approval.objects.create(
        release=release,
        environment=envs["production"],
        kind="deployment",
        person=people.ada,
        role=Role.APPROVER,
        decision="approve",
        release_version=release.version,
    )
    hotfix = release_create(
        project=project, version="2.4.1", title="Hotfix", actor=people.alice, type="hotfix"
    )
    return {
        "release": release,
        "step": step,
        "item": Item.objects.filter(step=step).order_by("pk").first(),
        "deployment": running,
        "meeting": meeting,
        "approval": approval,
        "hotfix": hotfix,
    }


@dataclass(frozen=True)
class Write:
    """One write endpoint: how to reach it, a body it refuses, and who may send it."""

    name: str
    url: Callable[[dict], str]
    invalid: dict
    allowed: str
    # A token with these scopes lacks what the endpoint needs; ``code`` is its refusal.
    token_scopes: tuple[str, ...] = (TokenScope.READ,)
    token_code: str = "missing_scope"
    method: str = "post"


WRITES = [
    # Checklists: people only; a token with every scope is refused (people_only, as approvals).
    Write(
        "checklist step: add item",
        lambda w: f"/api/v1/checklist-steps/{w['step'].pk}/items/",
        {"text": "", "role": "nobody"},
        "alice",
        ALL_SCOPES,
        "people_only",
    ),
    Write(
        "checklist step: record output",
        lambda w: f"/api/v1/checklist-steps/{w['step'].pk}/output/",
        {"actual_output": {"not": "text"}},
        "alice",
        ALL_SCOPES,
        "people_only",
    ),
    Write(
        "checklist item: tick",
        lambda w: f"/api/v1/checklist-items/{w['item'].pk}/tick/",
        {"note": ["not", "text"]},
        "alice",
        ALL_SCOPES,
        "people_only",
    ),
    Write(
        "checklist item: untick",
        lambda w: f"/api/v1/checklist-items/{w['item'].pk}/untick/",
        {"reason": ["not", "text"]},
        "alice",
        ALL_SCOPES,
        "people_only",
    ),
    Write(
        "checklist item: not applicable",
        lambda w: f"/api/v1/checklist-items/{w['item'].pk}/not-applicable/",
        {"reason": ""},
        "alice",
        ALL_SCOPES,
        "people_only",
    ),
    # Approvals: people only (tokens get people_only).
    Write(
        "approvals: approve",
        lambda w: f"/api/v1/release-approvals/{w['release'].pk}/approve/",
        {"kind": "bribe"},
        "ada",
        ALL_SCOPES,
        "people_only",
    ),
    Write(
        "approvals: reject",
        lambda w: f"/api/v1/release-approvals/{w['release'].pk}/reject/",
        {"kind": "bribe"},
        "pat",
        ALL_SCOPES,
        "people_only",
    ),
    Write(
        "approvals: withdraw",
        lambda w: f"/api/v1/approvals/{w['approval'].pk}/withdraw/",
        {"reason": ["not", "text"]},
        "ada",
        ALL_SCOPES,
        "people_only",
    ),
    Write(
        "approvals: request",
        lambda w: f"/api/v1/release-approvals/{w['release'].pk}/request/",
        {"kind": "bribe"},
        "alice",
        (TokenScope.READ, TokenScope.DEPLOYMENTS),
        "role_not_held",
    ),
    Write(
        "approvals: emergency",
        lambda w: f"/api/v1/release-approvals/{w['hotfix'].pk}/emergency/",
        {"justification": ""},
        "emma",
        ALL_SCOPES,
        "people_only",
    ),
    Write(
        "go/no-go: decide",
        lambda w: f"/api/v1/go-no-go/{w['meeting'].pk}/decide/",
        {"decision": "maybe"},
        "alice",
        ALL_SCOPES,
        "people_only",
    ),
    Write(
        "go/no-go: vote",
        lambda w: f"/api/v1/go-no-go/{w['meeting'].pk}/vote/",
        {"vote": "maybe"},
        "ada",
        ALL_SCOPES,
        "people_only",
    ),
    # Monitoring.
    Write(
        "monitoring: start a deployment",
        lambda w: "/api/v1/monitoring/deployments/",
        {"release": "{release}", "environment": "production", "strategy": "sideways"},
        "bob",
        (TokenScope.READ, TokenScope.RELEASES),
    ),
    Write(
        "monitoring: report a deployment",
        lambda w: f"/api/v1/monitoring/deployments/{w['deployment'].pk}/report/",
        {"succeeded": "perhaps"},
        "bob",
        (TokenScope.READ, TokenScope.RELEASES),
    ),
    # The pipeline API.
    Write(
        "ci: create a release",
        lambda w: "/api/v1/ci/releases/",
        {"project": "payments", "version": "not a version", "colour": "blue"},
        "alice",
        (TokenScope.READ, TokenScope.DEPLOYMENTS),
    ),
    Write(
        "ci: attach commits",
        lambda w: "/api/v1/ci/releases/2.4.0/commits/",
        {"project": "payments", "commits": "many"},
        "alice",
        (TokenScope.READ, TokenScope.DEPLOYMENTS),
    ),
    Write(
        "ci: add tickets",
        lambda w: "/api/v1/ci/releases/2.4.0/tickets/",
        {"project": "payments", "tickets": "PAY-1"},
        "alice",
        (TokenScope.READ, TokenScope.DEPLOYMENTS),
    ),
    Write(
        "ci: report a deployment",
        lambda w: "/api/v1/ci/releases/2.4.0/deployments/",
        {"project": "payments", "environment": "staging", "status": "exploded"},
        "bob",
        (TokenScope.READ, TokenScope.RELEASES),
    ),
    Write(
        "ci: upload test results",
        lambda w: "/api/v1/ci/releases/2.4.0/test-runs/",
        {"project": "payments", "junit_xml": ""},
        "quinn",
        (TokenScope.READ, TokenScope.RELEASES),
    ),
    # Releases and deployments.
    Write(
        "releases: create",
        lambda w: "/api/v1/releases/",
        {"project": "payments", "version": "not a version", "title": ""},
        "alice",
        (TokenScope.READ, TokenScope.DEPLOYMENTS),
    ),
    Write(
        "releases: edit",
        lambda w: f"/api/v1/releases/{w['release'].pk}/",
        {"title": "", "type": "enormous"},
        "alice",
        (TokenScope.READ, TokenScope.DEPLOYMENTS),
        method="patch",
    ),
    Write(
        "releases: cancel",
        lambda w: f"/api/v1/releases/{w['release'].pk}/cancel/",
        {"reason": ""},
        "alice",
        (TokenScope.READ, TokenScope.DEPLOYMENTS),
    ),
    Write(
        "releases: promote",
        lambda w: f"/api/v1/releases/{w['release'].pk}/promote/",
        {"environment": "production", "strategy": "sideways"},
        "bob",
        (TokenScope.READ, TokenScope.RELEASES),
    ),
    Write(
        "deployments: finish",
        lambda w: f"/api/v1/deployments/{w['deployment'].pk}/finish/",
        {"succeeded": "perhaps"},
        "bob",
        (TokenScope.READ, TokenScope.RELEASES),
    ),
    Write(
        "deployments: roll back",
        lambda w: f"/api/v1/deployments/{w['deployment'].pk}/rollback/",
        {"reason": ""},
        "bob",
        (TokenScope.READ, TokenScope.RELEASES),
    ),
]


def _body(write: Write, world: dict) -> dict:
    """The invalid body, with placeholders ("{release}") filled from the world."""
    return {
        key: world["release"].pk if value == "{release}" else value
        for key, value in write.invalid.items()
    }


@pytest.fixture(params=WRITES, ids=[w.name for w in WRITES])
def write(request):
    return request.param


@pytest.mark.parametrize("empty", [False, True], ids=["invalid body", "empty body"])
def test_auditor__is_refused_before_the_body_is_read(api, people, world, write, empty):
    client = api(people.aud)
    body = {} if empty else _body(write, world)
    before = _rows()

    response = _send(client, write.method, write.url(world), body)

    _refusal(response, 403, body)
    assert _changed(before) == []


def test_token_without_the_needed_scope__is_refused_before_the_body_is_read(
    token_client, world, write
):
    client = token_client(*write.token_scopes)
    body = _body(write, world)
    client.get(
        "/api/v1/ci/whoami/"
    )  # the token's first use stamps last_used_at; that is not under test
    before = _rows()

    response = _send(client, write.method, write.url(world), body)

    assert _refusal(response, 403, body)["error"] == write.token_code
    assert _changed(before) == []


def test_allowed_person__gets_the_400_for_the_same_body(api, people, world, write):
    client = api(getattr(people, write.allowed))
    before = _rows()

    response = _send(client, write.method, write.url(world), _body(write, world))

    assert response.status_code == 400, response.content
    assert response.json()["error"] in ("invalid", "comment_required", "invalid_version")
    assert _changed(before) == []


def test_member_of_another_project__gets_404(api, people, world, write):
    client = api(people.olga)
    before = _rows()

    response = _send(client, write.method, write.url(world), _body(write, world))

    _refusal(response, 404, _body(write, world))
    assert _changed(before) == []


# --- The particular cases --------------------------------------------------------------


def test_auditor_emergency_refusal__is_recorded_in_the_audit_trail(api, people, world):
    response = _send(
        api(people.aud), "post", f"/api/v1/release-approvals/{world['hotfix'].pk}/emergency/", {}
    )

    assert response.status_code == 403
    assert response.json()["message"].startswith("You hold only the auditor role")
    denial = AuditEvent.objects.get(action="approval.denied")
    assert denial.actor_label == "aud"


@pytest.mark.parametrize(
    ("who", "code", "says"),
    [
        ("quinn", "role_not_held", "Only an emergency approver may give an emergency approval."),
        ("ada", "role_not_held", "Only an emergency approver may give an emergency approval."),
        ("alice", "self_approval", "You created this release"),
    ],
)
def test_emergency__who_may_never_give_it__403_before_the_body(api, people, world, who, code, says):
    """The emergency path fixes the kind, so its role and separation of duties are asked first.
    alice wrote the hotfix; she is made an emergency approver to reach the separation rule."""
    Membership.objects.create(
        project=world["hotfix"].project, user=people.alice, role=Role.EMERGENCY_APPROVER
    )
    response = _send(
        api(getattr(people, who)),
        "post",
        f"/api/v1/release-approvals/{world['hotfix'].pk}/emergency/",
        {},
    )

    body = _refusal(response, 403, {})
    assert body["error"] == code
    assert says in body["message"]
    assert AuditEvent.objects.filter(action="approval.denied", actor_label=who).count() == 1


def test_auditor_refusal__names_the_role_that_is_needed(api, people, world):
    response = _send(
        api(people.aud), "post", "/api/v1/ci/releases/", {"project": "payments", "version": "x"}
    )
    assert response.json()["message"].startswith("You hold only the auditor role in this project")

    response = _send(
        api(people.aud), "post", f"/api/v1/checklist-steps/{world['step'].pk}/items/", {}
    )
    assert "release manager or a project admin" in response.json()["message"]


def test_qa_creating_a_release__is_told_which_roles_may(api, people, world):
    response = _send(
        api(people.quinn), "post", "/api/v1/ci/releases/", {"project": "payments", "version": "x"}
    )

    body = _refusal(response, 403, {"version": "x"})
    assert body["error"] == "role_not_held"
    assert body["message"] == (
        "Only a release manager, an engineer or a project admin may create releases in this "
        "project (an API token needs the 'releases' scope)."
    )


def test_qa_promoting__is_told_which_roles_may(api, people, world):
    url = f"/api/v1/releases/{world['release'].pk}/promote/"

    body = _refusal(_send(api(people.quinn), "post", url, {"environment": "?"}), 403, {})
    assert body["error"] == "role_not_held"
    assert body["message"].startswith(
        "Only a release manager, an engineer or a project admin may deploy this release"
    )


def test_missing_scope__names_the_scope(token_client, world):
    response = _send(token_client(TokenScope.READ), "post", "/api/v1/monitoring/deployments/", {})

    body = _refusal(response, 403, {})
    assert body["details"] == {"missing_scopes": ["deployments"]}
    assert "'deployments'" in body["message"]


def test_token_of_another_project__gets_404(token_client, other_project, world):
    client = token_client(*ALL_SCOPES, for_project=other_project)
    before = _rows()

    response = _send(
        client,
        "post",
        "/api/v1/ci/releases/2.4.0/commits/",
        {"project": "payments", "commits": "x"},
    )

    assert response.status_code == 404
    response = _send(
        client,
        "post",
        "/api/v1/monitoring/deployments/",
        {"release": world["release"].pk, "environment": "?"},
    )
    assert response.status_code == 404
    assert _changed(before) == []


@pytest.mark.parametrize(
    "url", ["/api/v1/ci/releases/", "/api/v1/releases/", "/api/v1/monitoring/deployments/"]
)
def test_naming_no_project_or_release__auditor_403__a_writer_elsewhere_400(api, people, world, url):
    """Without the field that names the object there is nothing to ask about, but the auditor
    may change nothing anywhere and is refused all the same; olga writes in her own project."""
    assert _send(api(people.aud), "post", url, {"version": "2.5.0"}).status_code == 403
    assert _send(api(people.olga), "post", url, {"version": "2.5.0"}).status_code == 400


@pytest.mark.parametrize("release_id", [2**63, "99999999999999999999999", 0])
def test_release_id_no_database_holds__404(api, people, world, release_id):
    response = _send(
        api(people.bob),
        "post",
        "/api/v1/monitoring/deployments/",
        {"release": release_id, "environment": "dev"},
    )

    assert response.status_code == 404


@pytest.mark.parametrize("url", ["/api/v1/ci/releases/", "/api/v1/releases/"])
def test_malformed_json__auditor_403__writer_400(api, people, world, url):
    raw = b'{"project": "payments", "version": '

    assert _send(api(people.aud), "post", url, raw).status_code == 403
    response = _send(api(people.alice), "post", url, raw)
    assert response.status_code == 400
    assert response.json()["error"] == "malformed_request"


def test_refusal_with_an_idempotency_key__is_not_kept_for_replay(api, people, project, world):
    """A 403 means "not you, not now": the key is not stored, so the same request with the same
    key runs afresh once the person holds the role."""
    url = "/api/v1/ci/releases/"
    body = {"project": "payments", "version": "2.6.0", "title": "Later"}
    headers = {"Idempotency-Key": "create-2.6.0"}
    client = api(people.aud)

    assert _send(client, "post", url, body, headers).status_code == 403
    assert not IdempotencyKey.objects.exists()

    Membership.objects.create(project=project, user=people.aud, role=Role.ENGINEER)
    response = _send(api(people.aud), "post", url, body, headers)

    assert response.status_code == 201, response.content
    assert "Idempotent-Replayed" not in response.headers
    assert IdempotencyKey.objects.get().response_status == 201


def test_token_refusal_with_an_idempotency_key__is_not_kept(token_client, world):
    client = token_client(TokenScope.READ)
    response = _send(
        client,
        "post",
        "/api/v1/ci/releases/2.4.0/tickets/",
        {"tickets": "x"},
        {"Idempotency-Key": "k-1"},
    )

    assert response.status_code == 403
    assert response.json()["error"] == "missing_scope"
    assert not IdempotencyKey.objects.exists()
