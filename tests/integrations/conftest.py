"""Fixtures for the pipeline API: tokens with chosen scopes and a small JSON client."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.test import Client

from projects.choices import TokenScope
from projects.services import api_token_create

ALL_SCOPES = tuple(TokenScope.values)


class Api:
    """A JSON client that sends one token (or a session) with every request."""

    def __init__(self, token: str | None = None, client: Client | None = None):
        self.client = client or Client()
        self.token = token

    def _headers(self, headers: dict | None) -> dict:
        merged = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        merged.update(headers or {})
        return merged

    def get(self, path: str, headers: dict | None = None, **params):
        return self.client.get(path, params, headers=self._headers(headers))

    def post(
        self,
        path: str,
        body=None,
        *,
        headers: dict | None = None,
        raw: bytes | str | None = None,
        content_type: str = "application/json",
    ):
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return self.client.post(
            path, data=data, content_type=content_type, headers=self._headers(headers)
        )


@pytest.fixture(autouse=True)
def _core_gates_only(gates_only):
    """These tests are about the pipeline API, not other apps' gates (the CLI journey uses them all)."""
    gates_only("releases")


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def make_token(people, project):
    """``make_token(scopes=..., project=..., expires_at=...)`` → the plain token text."""

    def _make(scopes=ALL_SCOPES, *, on=None, expires_at=None, name="pipeline"):
        target = on or project
        admin = people.adam if target.pk == project.pk else people.olga
        _token, plain = api_token_create(
            project=target, name=name, scopes=scopes, actor=admin, expires_at=expires_at
        )
        return plain

    return _make


@pytest.fixture
def api(make_token):
    return Api(make_token())


JUNIT_OK = """<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="unit" tests="3" failures="0" time="2.5">
  <testsuite name="cards" tests="3" failures="0" errors="0" skipped="1" time="2.5">
    <testcase classname="cards.SaveTest" name="test_save" time="1.0"/>
    <testcase classname="cards.SaveTest" name="test_update" time="1.0"/>
    <testcase classname="cards.SaveTest" name="test_legacy" time="0.5"><skipped/></testcase>
  </testsuite>
</testsuites>
"""

JUNIT_FAILING = """<testsuite name="api" tests="4" time="3.25">
  <testcase classname="api.Checkout" name="test_pay" time="1"/>
  <testcase classname="api.Checkout" name="test_refund" time="1"><failure message="expected 200">trace</failure></testcase>
  <testcase classname="api.Checkout" name="test_void" time="1"><error message="boom"/></testcase>
  <testcase name="test_orphan" time="0.25"><failure/></testcase>
</testsuite>
"""
