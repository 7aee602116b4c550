"""Fixtures for the API tests: clients logged in as a person or holding a token."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from projects.services import api_token_create


@pytest.fixture
def api():
    """``api(user)``: an API client with that person's session (or anonymous with None)."""

    def _client(user=None, *, enforce_csrf: bool = False) -> APIClient:
        client = APIClient(enforce_csrf_checks=enforce_csrf)
        if user is not None:
            client.force_login(user)
        return client

    return _client


@pytest.fixture
def token_client(project, people):
    """``token_client("read", "deployments")``: an API client with a fresh project token."""

    def _client(*scopes: str, for_project=None) -> APIClient:
        _token, plain = api_token_create(
            project=for_project or project, name="ci", scopes=scopes, actor=None
        )
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
        return client

    return _client


@pytest.fixture
def core_gates(gates_only):
    """Promotions in these tests face only the core gates of ``releases``."""
    gates_only()
