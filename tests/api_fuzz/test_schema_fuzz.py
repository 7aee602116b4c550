"""Schema-driven fuzzing of the whole API with schemathesis.

Every operation in /api/schema/ gets generated requests, valid and invalid,
sent in-process through the WSGI application with an API token that holds
every scope. The run fails on any 5xx, and on any answer the schema does not
describe (status code, content type, body shape, headers).

Bounded on purpose: a few examples per operation, deterministic generation,
so that it stays a small part of ``make test``: the examples and fuzzing phases
run for every operation; the coverage phase (boundary values, unexpected
methods; about a hundred requests per operation) runs with
SHIPCHECK_FUZZ_COVERAGE=1. Raise SHIPCHECK_FUZZ_EXAMPLES for a deeper run.

Findings so far, fixed at the source: releases' and checklists' "who" fields
(created_by, completed_by, added_by, published_by) answered null where the
schema promised a string.
"""

from __future__ import annotations

import os
import uuid

import pytest
import schemathesis
from django.core import signals
from django.core.cache import cache
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from projects.choices import TokenScope
from projects.services import api_token_create

MAX_EXAMPLES = int(os.environ.get("SHIPCHECK_FUZZ_EXAMPLES", "5"))
WITH_COVERAGE_PHASE = os.environ.get("SHIPCHECK_FUZZ_COVERAGE", "") == "1"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
schema.config.generation.update(
    modes=["positive", "negative"], max_examples=MAX_EXAMPLES, deterministic=True
)


@pytest.fixture
def _keep_the_test_connection():
    """Calls go straight to the WSGI handler, whose request signals would close the test's
    database connection (inside its transaction) on PostgreSQL; Django's test client
    disconnects them the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_headers(people, project, release, _keep_the_test_connection):
    """A token with every scope on a project with people, environments and release 2.4.0."""
    cache.clear()  # a fresh rate-limit budget
    _token, plain = api_token_create(
        project=project, name="fuzz", scopes=TokenScope.values, actor=people.adam
    )
    return {"Authorization": f"Bearer {plain}"}


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.django_db
def test_api_answers_as_its_schema_says(case, fuzz_headers):
    # A fresh Idempotency-Key per call, so each generated body reaches the view instead of
    # being refused as a reused key (tests/integrations/test_idempotency.py covers the key itself).
    headers = dict(fuzz_headers)
    if case.method.upper() == "POST":
        headers["Idempotency-Key"] = str(uuid.uuid4())
    response = case.call(headers=headers)
    case.validate_response(response, checks=CHECKS)
