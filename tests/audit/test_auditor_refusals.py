"""How an auditor's attempt to change something is refused, beyond the walk over every URL.

The right is checked before the form is read (403 whatever the body), an
auditor never gains rights by being named somewhere (a release's manager),
refused approval attempts are still written to the trail, and htmx callers
get the reason in the answer.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from approvals.models import Approval
from audit.models import AuditEvent
from projects.permissions import READ_ONLY_REFUSAL, can_manage_release
from releases.models import Release


@pytest.fixture
def auditor(client, people):
    client.force_login(people.aud)
    return client


@pytest.mark.parametrize(
    "body",
    [{}, {"kind": "nonsense", "decision": "maybe"}, {"kind": "deployment", "decision": "approve"}],
)
def test_auditor_decision__any_body__403_and_the_attempt_is_recorded(
    auditor, release, people, body
):
    response = auditor.post(reverse("approvals:decide", args=[release.pk]), body)

    assert response.status_code == 403
    assert READ_ONLY_REFUSAL in response.content.decode()
    assert not Approval.objects.filter(release=release).exists()
    denied = AuditEvent.objects.filter(action="approval.denied", actor_id=people.aud.pk).get()
    assert denied.reason == READ_ONLY_REFUSAL


def test_auditor_decision__htmx__403_names_the_reason_for_the_page_to_show(auditor, release):
    response = auditor.post(
        reverse("approvals:decide", args=[release.pk]), {}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 403
    assert b"data-refusal" in response.content
    assert READ_ONLY_REFUSAL in response.content.decode()


def test_same_invalid_body__from_an_approver__is_a_form_error_not_a_refusal(
    client, release, people
):
    client.force_login(people.ada)
    response = client.post(
        reverse("approvals:decide", args=[release.pk]), {}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    assert not AuditEvent.objects.filter(action="approval.denied").exists()


def test_auditor_named_release_manager__still_cannot_steer_the_release(
    auditor, release, people, envs
):
    Release.objects.filter(pk=release.pk).update(release_manager=people.aud)
    release.refresh_from_db()

    assert not can_manage_release(people.aud, release)
    edit = auditor.post(
        reverse("releases:edit", args=[release.pk]), {"title": "Renamed by the auditor"}
    )
    cancel = auditor.post(
        reverse("releases:cancel", args=[release.pk]), {"reason": "not mine to cancel"}
    )
    schedule = auditor.get(reverse("approvals:meeting-new", args=[release.pk]))

    assert (edit.status_code, cancel.status_code, schedule.status_code) == (403, 403, 403)
    release.refresh_from_db()
    assert (release.title, release.status) == ("Faster checkout", "planned")


@pytest.mark.parametrize("name", ["releases:promote", "releases:cancel"])
def test_release_actions__auditor_with_an_empty_body__403_not_a_form_error(auditor, release, name):
    response = auditor.post(reverse(name, args=[release.pk]), {})

    assert response.status_code == 403
