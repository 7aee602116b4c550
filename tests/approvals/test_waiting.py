"""Waiting for me: asked only when it is time, and the same count in the navigation."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.approvals.conftest import approve, deploy

pytestmark = pytest.mark.django_db


def _nav_count(client) -> int:
    """The count the navigation shows: the page asks for it (htmx) from the count view."""
    page = client.get(reverse("dashboard")).content.decode()
    url = reverse("approvals:inbox-count")
    assert f'hx-get="{url}"' in page, "the navigation does not load the count"
    match = re.search(
        r'<span class="nav-count"[^>]*>(\d+)</span>', client.get(url).content.decode()
    )
    return int(match.group(1)) if match else 0


def test_production_approval__not_asked_before_staging_succeeded(
    client, release, envs, people, only_approval_gates
):
    deploy(release, envs["dev"], people.bob)
    client.force_login(people.ada)
    body = client.get(reverse("approvals:inbox")).content.decode()
    assert "deployment approvals for Production" not in body
    assert _nav_count(client) == 0
    deploy(release, envs["staging"], people.bob)
    body = client.get(reverse("approvals:inbox")).content.decode()
    assert "2 deployment approvals for Production" in body
    assert _nav_count(client) == 1


def test_nav_count__agrees_with_the_page_and_the_dashboard_and_drops_after_deciding(
    client, release, envs, people, only_approval_gates
):
    deploy(release, envs["dev"], people.bob)
    deploy(release, envs["staging"], people.bob)
    client.force_login(people.pat)  # the product owner: the scope approval waits for them
    inbox = client.get(reverse("approvals:inbox")).content.decode()
    dashboard = client.get(reverse("dashboard")).content.decode()
    rows = inbox.count('<tr class="inbox-')
    assert rows == 1 and "Scope approval by the product owner" in inbox
    assert _nav_count(client) == rows
    assert dashboard[dashboard.index('id="dashboard-waiting"') :].count('class="attention ') >= 1
    approve(release, people.pat, kind="scope")
    assert _nav_count(client) == 0


def test_nav_count__outsider_has_nothing(client, release, envs, people, only_approval_gates):
    deploy(release, envs["dev"], people.bob)
    deploy(release, envs["staging"], people.bob)
    client.force_login(people.olga)
    assert _nav_count(client) == 0
