"""A broker outage never turns a committed write into an error.

Tasks are queued after commit (``transaction.on_commit(..., robust=True)``): when the
broker is down the write has already happened, so the answer is its normal 2xx and the
failure to queue is logged (Django's "Error calling ... in on_commit()").
"""

from __future__ import annotations

import socket

import pytest
from rest_framework.test import APIClient

from approvals.models import Approval
from core.models import Notification


@pytest.fixture
def broker_down(settings):
    """Tasks really go to a broker (no eager mode) and that broker is a closed local port."""
    from config.celery import app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    saved = (
        app.conf.broker_url,
        app.conf.broker_transport_options,
        app.conf.task_always_eager,
        app.conf.broker_connection_timeout,
    )
    app.close()
    app.conf.broker_url = f"redis://127.0.0.1:{closed_port}/0"
    app.conf.broker_transport_options = {}
    app.conf.broker_connection_timeout = 1
    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    yield
    app.close()
    (
        app.conf.broker_url,
        app.conf.broker_transport_options,
        app.conf.task_always_eager,
        app.conf.broker_connection_timeout,
    ) = saved


@pytest.mark.django_db(transaction=True)
def test_approval__broker_down__answers_201_and_is_committed(staged, people, envs, broker_down):
    api = APIClient()
    api.force_authenticate(user=people.abe)

    response = api.post(
        f"/api/v1/release-approvals/{staged.pk}/approve/",
        {"kind": "deployment", "environment": "production"},
        format="json",
    )

    assert response.status_code == 201, response.content
    # Committed: visible from a fresh query, with the in-app notification that goes with it.
    assert Approval.objects.filter(release=staged, person=people.abe, decision="approve").exists()
    assert Notification.objects.filter(recipient=people.alice, subject__contains="Abe").exists()
