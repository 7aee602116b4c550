import pytest

from audit.models import AuditEvent
from core.exceptions import NotFound, PermissionDenied, TransitionNotAllowed
from releases.choices import DeploymentStatus, ReleaseStatus
from releases.exceptions import DuplicateVersion, GateBlocked, InvalidVersion
from releases.gates import gate_evaluate
from releases.models import Deployment, Release
from releases.services import (
    deployment_finish,
    deployment_rollback,
    release_cancel,
    release_create,
    release_promote,
    release_update,
)


@pytest.fixture(autouse=True)
def _core_gates_only(gates_only):
    """These tests are about the core gates; the other apps test their own gates."""
    gates_only("releases")


def _deploy(release, env, actor, ok=True):
    deployment = release_promote(release=release, environment=env, actor=actor)
    return deployment_finish(deployment=deployment, succeeded=ok, actor=actor)


@pytest.mark.parametrize("bad", ["1.0", "v1", "01.2.3", "1.2.3.4", "", "x" * 100, "1.2.3-"])
def test_create__invalid_version__is_refused(project, people, bad):
    with pytest.raises(InvalidVersion):
        release_create(project=project, version=bad, title="t", actor=people.alice)
    assert not Release.objects.exists()


def test_create__duplicate_version__is_refused(release, project, people):
    with pytest.raises(DuplicateVersion):
        release_create(project=project, version="v2.4.0", title="again", actor=people.alice)
    assert Release.objects.count() == 1


def test_create__outsider__gets_not_found(project, people):
    with pytest.raises(NotFound):
        release_create(project=project, version="1.0.0", title="t", actor=people.olga)


def test_create__auditor__is_forbidden(project, people):
    with pytest.raises(PermissionDenied):
        release_create(project=project, version="1.0.0", title="t", actor=people.aud)


def test_create__writes_audit_event(release, people):
    event = AuditEvent.objects.get(action="release.created")
    assert event.actor_label == "alice"
    assert event.release_id == release.pk
    assert event.to_state == ReleaseStatus.PLANNED


def test_promote__to_staging_before_dev__is_blocked_with_reason(release, envs, people):
    with pytest.raises(GateBlocked) as exc:
        release_promote(release=release, environment=envs["staging"], actor=people.bob)
    assert "Not yet deployed successfully to Development." in exc.value.message
    assert not Deployment.objects.exists()


def test_promote__dev_then_staging__moves_release_in_progress(release, envs, people):
    _deploy(release, envs["dev"], people.bob)
    deployment = release_promote(release=release, environment=envs["staging"], actor=people.bob)
    release.refresh_from_db()
    assert release.status == ReleaseStatus.IN_PROGRESS
    assert deployment.status == DeploymentStatus.IN_PROGRESS
    assert deployment.deployed_by == people.bob


def test_production_gates__name_every_missing_thing(release, envs, people):
    release = release_update(release=release, actor=people.alice, rollback_plan="")
    report = gate_evaluate(release=release, environment=envs["production"])
    reasons = {g.code: (g.state, g.reason) for g in report.gates}
    assert reasons["order"] == ("closed", "Not yet deployed successfully to Staging.")
    assert reasons["rollback_plan"][0] == "closed"
    assert not report.is_open


def test_promote__environment_busy__is_blocked(release, envs, people, project):
    other = release_create(project=project, version="2.5.0", title="Other", actor=people.alice)
    release_promote(release=release, environment=envs["dev"], actor=people.bob)
    with pytest.raises(GateBlocked) as exc:
        release_promote(release=other, environment=envs["dev"], actor=people.bob)
    assert "A deployment of release 2.4.0 is in progress in Development." in exc.value.message


def test_production_success__releases_the_release(release, envs, people):
    for name in ("dev", "staging", "production"):
        _deploy(release, envs[name], people.bob)
    release.refresh_from_db()
    assert release.status == ReleaseStatus.RELEASED
    report = gate_evaluate(release=release, environment=envs["dev"])
    assert "The release is already released to production." in [g.reason for g in report.closed]


def test_rollback__production__rolls_back_release(release, envs, people):
    for name in ("dev", "staging", "production"):
        deployment = _deploy(release, envs[name], people.bob)
    deployment_rollback(deployment=deployment, actor=people.alice, reason="Error rate doubled")
    release.refresh_from_db()
    assert release.status == ReleaseStatus.ROLLED_BACK


def test_cancel__needs_reason_and_is_terminal(release, people, envs):
    release_cancel(release=release, actor=people.alice, reason="Scope moved to 2.5")
    release.refresh_from_db()
    assert release.status == ReleaseStatus.CANCELLED
    with pytest.raises(GateBlocked) as exc:
        release_promote(release=release, environment=envs["dev"], actor=people.bob)
    assert "The release was cancelled." in exc.value.message
    with pytest.raises(TransitionNotAllowed):
        release_update(release=release, actor=people.alice, title="New")


def test_finish__twice__is_refused(release, envs, people):
    deployment = _deploy(release, envs["dev"], people.bob)
    with pytest.raises(TransitionNotAllowed):
        deployment_finish(deployment=deployment, succeeded=True, actor=people.bob)
