"""Notifications reach a real SMTP server: signed in, one message per recipient.

The server is aiosmtpd on a free loopback port, started by the test itself.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from email import message_from_bytes
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from core.notifications import notification_send
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Inbox:
    def __init__(self):
        self.messages: list[dict] = []
        self.logins: list[tuple[str, str]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(
            {
                "rcpt": list(envelope.rcpt_tos),
                "login": session.login_data,
                "message": message_from_bytes(envelope.content),
            }
        )
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        login = auth_data.login.decode()
        password = auth_data.password.decode()
        self.logins.append((login, password))
        return AuthResult(success=(login, password) == ("shipcheck", "s3cret-smtp"))


@pytest.fixture
def smtp_server(settings):
    inbox = _Inbox()
    port = _free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=inbox.authenticate,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = "shipcheck"
    settings.EMAIL_HOST_PASSWORD = "s3cret-smtp"  # noqa: S105
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
    settings.SHIPCHECK_BASE_URL = "https://shipcheck.example.com"
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.mark.django_db
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_notification__one_message_per_recipient_through_an_authenticated_smtp_server(
    smtp_server, django_capture_on_commit_callbacks
):
    people = [UserFactory(username=n, email=f"{n}@example.com") for n in ("ann", "ben", "cy")]

    with django_capture_on_commit_callbacks(execute=True):
        notification_send(
            recipients=people, subject="2.4.0 is in staging", body="Have a look.", url="/r/1/"
        )

    assert smtp_server.logins and set(smtp_server.logins) == {("shipcheck", "s3cret-smtp")}
    assert sorted(m["rcpt"][0] for m in smtp_server.messages) == [
        "ann@example.com",
        "ben@example.com",
        "cy@example.com",
    ]
    for received in smtp_server.messages:
        # Each message names its one recipient, and nobody else, in To: (and no Cc/Bcc).
        assert len(received["rcpt"]) == 1
        assert received["message"]["To"] == received["rcpt"][0]
        assert received["message"]["Cc"] is None
        assert received["message"]["Subject"] == "[Shipcheck] 2.4.0 is in staging"
        body = received["message"].get_payload()
        assert "https://shipcheck.example.com/r/1/" in body


def _settings_from_env(tmp_path, **env: str) -> subprocess.CompletedProcess:
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("EMAIL_", "SHIPCHECK_TESTING"))
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="config.settings", SHIPCHECK_VAR_DIR=str(tmp_path), **env
    )
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.EMAIL_HOST_USER, s.EMAIL_HOST_PASSWORD, s.EMAIL_USE_TLS, s.EMAIL_USE_SSL, "
        "s.EMAIL_TIMEOUT)"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_email_settings__come_from_the_environment(tmp_path):
    result = _settings_from_env(
        tmp_path,
        EMAIL_HOST_USER="apikey",
        EMAIL_HOST_PASSWORD="pw",
        EMAIL_USE_TLS="true",
        EMAIL_TIMEOUT="7",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["apikey", "pw", "True", "False", "7"]


def test_email_settings__default_timeout_is_finite(tmp_path):
    result = _settings_from_env(tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == "10"


@pytest.mark.parametrize(
    "env, complaint",
    [
        ({"EMAIL_USE_TLS": "true", "EMAIL_USE_SSL": "true"}, "EMAIL_USE_TLS and EMAIL_USE_SSL"),
        ({"EMAIL_TIMEOUT": "soon"}, "EMAIL_TIMEOUT must be an integer"),
        ({"EMAIL_USE_SSL": "maybe"}, "EMAIL_USE_SSL must be one of"),
    ],
)
def test_email_settings__malformed__stop_start_up_naming_the_variable(tmp_path, env, complaint):
    result = _settings_from_env(tmp_path, **env)

    assert result.returncode != 0
    assert complaint in result.stderr
