"""docker-compose.yml and the Dockerfile stay in step with the settings.

No Docker engine runs here, so these read the files: every variable the
compose file sets is one the settings read, and its production environment
really starts Django in production mode.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_SOURCE = (ROOT / "config" / "settings.py").read_text()
SUBSTITUTION = re.compile(r"\$\{(?P<name>[A-Z][A-Z0-9_]*)(?::(?P<op>[-?])(?P<arg>[^}]*))?\}")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _command(service: dict) -> str:
    command = service["command"]
    return " ".join(command) if isinstance(command, list) else command


def _resolve(value: str, given: dict[str, str]) -> str:
    """Compose's ${NAME:-default} / ${NAME:?error}, with ``given`` as the shell environment."""

    def replace(match: re.Match) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        if given.get(name):
            return given[name]
        if op == "?":
            raise AssertionError(f"{name} is required: {arg}")
        return arg or ""

    return SUBSTITUTION.sub(replace, str(value))


def test_compose__has_the_production_shape(compose):
    services = compose["services"]

    assert {"web", "worker", "scheduler", "postgres", "redis"} <= set(services)
    assert "gunicorn config.wsgi:application" in _command(services["web"])
    assert "celery -A config worker" in _command(services["worker"])
    assert "celery -A config beat" in _command(services["scheduler"])
    assert _command(services["migrate"]).endswith("manage.py migrate --noinput")
    env = services["web"]["environment"]
    assert (
        env["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in env["DATABASE_URL"]
    )
    assert env["REDIS_URL"] == "redis://redis:6379/0"
    assert env == services["worker"]["environment"] == services["scheduler"]["environment"]


def test_compose__sets_only_variables_the_settings_read(compose):
    env = compose["services"]["web"]["environment"]
    unknown = [name for name in env if f'"{name}"' not in SETTINGS_SOURCE]

    assert not unknown, (
        f"docker-compose.yml sets variables config/settings.py never reads: {unknown}"
    )


def test_compose__environment_starts_django_in_production_mode(compose, tmp_path):
    given = {
        "SECRET_KEY": "s" * 48,
        "SHIPCHECK_AUDIT_SIGNING_KEY": "a" * 48,
        "ALLOWED_HOSTS": "shipcheck.example.com",
    }
    env = {
        name: _resolve(value, given)
        for name, value in compose["services"]["web"]["environment"].items()
    }
    process_env = {k: v for k, v in os.environ.items() if k not in env and k != "SHIPCHECK_TESTING"}
    process_env.update(
        env, DJANGO_SETTINGS_MODULE="config.settings", SHIPCHECK_VAR_DIR=str(tmp_path)
    )

    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings as s; "
            "print(s.PRODUCTION, s.DEBUG, s.DATABASES['default']['HOST'], s.CELERY_BROKER_URL)",
        ],
        cwd=ROOT,
        env=process_env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False", "postgres", "redis://redis:6379/0"]


def test_compose__refuses_to_start_without_the_secrets(compose):
    env = compose["services"]["web"]["environment"]

    for name in ("SECRET_KEY", "SHIPCHECK_AUDIT_SIGNING_KEY", "ALLOWED_HOSTS"):
        with pytest.raises(AssertionError, match=f"{name} is required"):
            _resolve(env[name], {})


def test_dockerfile__builds_the_image_the_compose_file_runs():
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert "collectstatic" in dockerfile
    assert "USER shipcheck" in dockerfile
    assert '"gunicorn", "config.wsgi:application"' in dockerfile
    for line in dockerfile.splitlines():
        if line.startswith("COPY ") and " . ." not in line:
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), f"Dockerfile copies {source}, which does not exist"


def test_compose__workers_consume_the_default_and_the_monitoring_queue(compose):
    from django.conf import settings

    worker = _command(compose["services"]["worker"])

    assert f"--queues={settings.SHIPCHECK_WORKER_QUEUES}" in worker
    assert settings.SHIPCHECK_WORKER_QUEUES.split(",") == ["celery", "monitoring"]


def test_dockerfile__python_base_image_is_one_the_next_django_lts_supports():
    dockerfile = (ROOT / "Dockerfile").read_text()
    match = re.search(r"^FROM python:3\.(\d+)", dockerfile, re.MULTILINE)

    assert match, "the image must start from an official python:3.x image"
    assert int(match[1]) >= 12, "Django 6.2 LTS needs Python 3.12 or later"


def test_gunicorn__threaded_workers_and_timeouts_for_streaming_exports(compose):
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "--config" in _command(compose["services"]["web"])
    assert '"--config", "config/gunicorn.py"' in dockerfile

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--print-config",
            "--config",
            "config/gunicorn.py",
            "config.wsgi:application",
        ],
        cwd=ROOT,
        env={**os.environ, "GUNICORN_TIMEOUT": "90"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    printed = {
        key.strip(): value.strip()
        for key, _, value in (line.partition(" = ") for line in result.stdout.splitlines())
    }
    assert printed["worker_class"] == "gthread"
    assert int(printed["threads"]) >= 2
    assert printed["timeout"] == "90"
    assert int(printed["graceful_timeout"]) > 0


def test_static__collected_with_hashed_names_and_served_by_whitenoise(tmp_path):
    script = (
        "import django; django.setup()\n"
        "from django.core.management import call_command\n"
        "from django.templatetags.static import static\n"
        "from django.test import Client\n"
        "call_command('collectstatic', '--noinput', verbosity=0)\n"
        "url = static('css/app.css')\n"
        "response = Client().get(url, HTTP_HOST='shipcheck.example.com', secure=True)\n"
        "print(url, response.status_code, response.headers.get('Cache-Control'))\n"
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SHIPCHECK_TESTING", "DEBUG", "DATABASE_URL", "REDIS_URL")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        SHIPCHECK_VAR_DIR=str(tmp_path),
        SHIPCHECK_PRODUCTION="true",
        SECRET_KEY="s" * 48,
        SHIPCHECK_AUDIT_SIGNING_KEY="a" * 48,
        ALLOWED_HOSTS="shipcheck.example.com",
    )

    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    url, status, cache_control = result.stdout.split(maxsplit=2)
    assert re.fullmatch(r"/static/css/app\.[0-9a-f]{12}\.css", url), url
    assert status == "200"
    assert "max-age=315360000" in cache_control and "immutable" in cache_control
    assert (tmp_path / "staticfiles" / url.removeprefix("/static/")).with_suffix(".css.gz").exists()
