"""Production mode passes Django's deployment checklist, and HTTPS settings come from the env."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLEARED = (
    "DATABASE_URL",
    "REDIS_URL",
    "DEBUG",
    "SHIPCHECK_TESTING",
    "CELERY_TASK_ALWAYS_EAGER",
    "DJANGO_ALLOW_ASYNC_UNSAFE",  # the test process sets it; a deployment never does
)


def _production(tmp_path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in CLEARED and not k.startswith("SECURE_")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        SHIPCHECK_VAR_DIR=str(tmp_path),
        SHIPCHECK_PRODUCTION="true",
        # As the README makes them: secrets.token_urlsafe(48).
        SECRET_KEY=secrets.token_urlsafe(48),
        SHIPCHECK_AUDIT_SIGNING_KEY=secrets.token_urlsafe(48),
        ALLOWED_HOSTS="shipcheck.example.com",
        **extra,
    )
    return env


def _run(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy__production_mode__no_warnings(tmp_path):
    result = _run(
        _production(tmp_path), "manage.py", "check", "--deploy", "--fail-level", "WARNING"
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


PRINT = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
    "s.SECURE_HSTS_PRELOAD)"
)


def test_https_settings__production_defaults_are_safe(tmp_path):
    result = _run(_production(tmp_path), "-c", PRINT)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "31536000", "True", "True"]


def test_https_settings__set_from_the_environment(tmp_path):
    env = _production(
        tmp_path,
        SECURE_SSL_REDIRECT="false",
        SECURE_HSTS_SECONDS="3600",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="false",
        SECURE_HSTS_PRELOAD="no",
    )
    result = _run(env, "-c", PRINT)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "3600", "False", "False"]


def test_https_settings__malformed__stop_start_up_naming_the_variable(tmp_path):
    result = _run(_production(tmp_path, SECURE_HSTS_SECONDS="a year"), "-c", PRINT)

    assert result.returncode != 0
    assert "SECURE_HSTS_SECONDS must be an integer" in result.stderr


def test_probes__answer_over_plain_http_in_production(tmp_path):
    """The container health check asks http://127.0.0.1:8000/healthz: no redirect to https."""
    script = (
        "import django; django.setup(); from django.test import Client; c = Client(); "
        "print(c.get('/healthz', HTTP_HOST='shipcheck.example.com').status_code, "
        "c.get('/login/', HTTP_HOST='shipcheck.example.com').status_code)"
    )
    result = _run(_production(tmp_path), "-c", script)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["200", "301"]
