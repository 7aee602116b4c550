"""Settings come from the environment and refuse malformed values at start-up.

Each case starts a fresh interpreter, as a deployment would, and reads what it
says when it refuses.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Variables of the parent (CI sets some) that would leak into the cases.
CLEARED = (
    "DATABASE_URL",
    "REDIS_URL",
    "DEBUG",
    "EMAIL_PORT",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "SHIPCHECK_PRODUCTION",
    "SHIPCHECK_TESTING",
    "CELERY_TASK_ALWAYS_EAGER",
    "SHIPCHECK_AUDIT_SIGNING_KEY",
)
GOOD_SECRET = "k" * 50
# Every secret production requires, so one case can leave out exactly one.
PRODUCTION_SECRETS = {"SECRET_KEY": GOOD_SECRET, "SHIPCHECK_AUDIT_SIGNING_KEY": "a" * 40}


def start(tmp_path, **env: str) -> subprocess.CompletedProcess:
    """Run ``django.setup()`` in a new process with only these variables changed."""
    environment = {k: v for k, v in os.environ.items() if k not in CLEARED}
    environment.update(
        DJANGO_SETTINGS_MODULE="config.settings", SHIPCHECK_VAR_DIR=str(tmp_path), **env
    )
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print('ready', settings.DEBUG, settings.DATABASES['default']['ENGINE'])",
        ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_no_environment__starts_in_development_mode_on_sqlite(tmp_path):
    result = start(tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["ready", "True", "django.db.backends.sqlite3"]


@pytest.mark.parametrize(
    ("variable", "value", "complaint"),
    [
        ("DATABASE_URL", "mysql://db.example.com/shipcheck", "must start with one of postgres://"),
        ("DATABASE_URL", "postgres://db.example.com:port/shipcheck", "malformed port"),
        ("DATABASE_URL", "postgres:///no-host", "no host name"),
        ("DATABASE_URL", "not a url", "must start with one of"),
        ("REDIS_URL", "http://127.0.0.1:6379/0", "must start with one of redis://"),
        ("REDIS_URL", "redis://127.0.0.1:99999999/0", "malformed port"),
        ("DEBUG", "maybe", "must be one of true/false"),
        ("EMAIL_PORT", "twenty-five", "must be an integer"),
        ("EMAIL_PORT", "0", "must be at least 1"),
        ("SHIPCHECK_IDEMPOTENCY_WAIT_SECONDS", "soon", "must be an integer"),
        ("SHIPCHECK_IDEMPOTENCY_TTL_HOURS", "1", "must be at least 24"),
    ],
)
def test_malformed_value__stops_start_up_naming_the_variable(tmp_path, variable, value, complaint):
    result = start(tmp_path, **{variable: value})

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    last_line = result.stderr.strip().splitlines()[-1]
    assert variable in last_line
    assert complaint in last_line


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "SECRET_KEY"),
        ({"SECRET_KEY": "short", "ALLOWED_HOSTS": "shipcheck.example.com"}, "SECRET_KEY"),
        ({**PRODUCTION_SECRETS}, "ALLOWED_HOSTS"),
        (
            {**PRODUCTION_SECRETS, "ALLOWED_HOSTS": "shipcheck.example.com", "DEBUG": "true"},
            "DEBUG",
        ),
    ],
)
def test_production__refuses_to_start_without_its_settings(tmp_path, env, named):
    result = start(tmp_path, SHIPCHECK_PRODUCTION="true", **env)

    assert result.returncode != 0
    assert named in result.stderr.strip().splitlines()[-1]


def test_production__with_secret_and_hosts__starts_without_debug(tmp_path):
    result = start(
        tmp_path,
        SHIPCHECK_PRODUCTION="true",
        ALLOWED_HOSTS="shipcheck.example.com",
        **PRODUCTION_SECRETS,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:2] == ["ready", "False"]


def test_database_url__postgres__switches_the_engine(tmp_path):
    result = start(tmp_path, DATABASE_URL="postgres://u:p@db.example.com:5432/shipcheck")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[2] == "django.db.backends.postgresql"
