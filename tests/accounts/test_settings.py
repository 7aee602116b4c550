"""The sign-in settings refuse a half-configured provider at start-up, naming what is missing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _check(**env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SHIPCHECK_OIDC_")}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**clean, "SHIPCHECK_TESTING": "1", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_oidc__half_configured__refuses_to_start_and_names_the_missing_variables():
    result = _check(SHIPCHECK_OIDC_ISSUER="https://id.example.com")
    assert result.returncode != 0
    assert "SHIPCHECK_OIDC_CLIENT_ID" in result.stderr
    assert "SHIPCHECK_OIDC_CLIENT_SECRET" in result.stderr


def test_oidc__issuer_with_wrong_scheme__is_refused():
    result = _check(
        SHIPCHECK_OIDC_ISSUER="ftp://id.example.com",
        SHIPCHECK_OIDC_CLIENT_ID="x",
        SHIPCHECK_OIDC_CLIENT_SECRET="y",
    )
    assert result.returncode != 0 and "SHIPCHECK_OIDC_ISSUER" in result.stderr


def test_oidc__fully_configured__starts():
    result = _check(
        SHIPCHECK_OIDC_ISSUER="https://id.example.com",
        SHIPCHECK_OIDC_CLIENT_ID="x",
        SHIPCHECK_OIDC_CLIENT_SECRET="y",
    )
    assert result.returncode == 0, result.stderr
