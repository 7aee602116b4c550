"""A canary waiting for a person: in Waiting for me, in the navigation count, in the banner."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from monitoring.choices import WindowStatus
from monitoring.models import MonitoringWindow
from tests.monitoring.test_views import login, running_window  # noqa: F401 - the fixture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("allow_loopback")]


@pytest.fixture
def undecided(running_window):  # noqa: F811
    # The checks could not decide: the window waits for a person (what the verdict code sets
    # when evidence is missing; the decision paths themselves are tested in test_windows.py).
    MonitoringWindow.objects.filter(pk=running_window.pk).update(
        status=WindowStatus.INCONCLUSIVE, reason="Not enough traffic to judge the error rate."
    )
    running_window.refresh_from_db()
    return running_window


def _nav_count(client) -> int:
    """The count the navigation shows: the page asks for it (htmx) from the count view."""
    page = client.get(reverse("dashboard")).content.decode()
    url = reverse("approvals:inbox-count")
    assert f'hx-get="{url}"' in page, "the navigation does not load the count"
    match = re.search(
        r'<span class="nav-count"[^>]*>(\d+)</span>', client.get(url).content.decode()
    )
    return int(match.group(1)) if match else 0


def test_undecided_canary__waits_for_people_who_may_deploy(client, people, undecided):
    login(client, people.alice)
    inbox = client.get(reverse("approvals:inbox")).content.decode()
    assert "Decide on the canary in Development" in inbox
    assert undecided.get_absolute_url() in inbox
    dashboard = client.get(reverse("dashboard")).content.decode()
    box = dashboard[dashboard.index('id="dashboard-waiting"') :]
    assert "Decide on the canary in Development" in box
    # The navigation, the box and the page count the same rows.
    rows = inbox.count('<tr class="inbox-')
    assert rows >= 1
    assert _nav_count(client) == rows


def test_undecided_canary__not_waiting_for_the_auditor(client, people, undecided):
    inbox = login(client, people.aud).get(reverse("approvals:inbox")).content.decode()
    assert "Decide on the canary" not in inbox
    assert _nav_count(client) == 0


def test_undecided_canary__banner_and_mark_succeeded_point_to_the_decision(
    client, people, release, undecided
):
    body = (
        login(client, people.alice)
        .get(reverse("releases:detail", args=[release.pk]))
        .content.decode()
    )
    banner = body[body.index('class="urgent-banner"') : body.index('class="card release-header')]
    assert "needs a decision" in banner
    assert undecided.get_absolute_url() in banner
    stage = body[body.index('id="stage-dev"') : body.index('id="stage-staging"')]
    assert "Mark succeeded" not in stage
    assert "Decide on the canary" in stage


def test_nav_count__follows_a_decision_at_once(client, people, undecided):
    login(client, people.alice)
    before = _nav_count(client)
    response = client.post(
        reverse("monitoring:window-decide", args=[undecided.pk]),
        {"action": "accept", "reason": "Verified by hand"},
    )
    assert response.status_code == 302
    after = _nav_count(client)
    assert after == before - 1
