"""Real peers for the sign-in tests: an SMTP server (aiosmtpd) and an OpenID Connect provider
(the npm package oidc-provider on Node.js), both on 127.0.0.1 and a free port."""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.core.cache import cache

OIDC_DIR = Path(__file__).parent / "oidc"


@pytest.fixture(autouse=True)
def _fresh_login_counters():
    """Failed-sign-in counters live in the cache; each test starts without any."""
    cache.clear()
    yield
    cache.clear()


class _Inbox:
    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        with self._lock:
            self.messages.append(message)
        return "250 Message accepted"

    def to(self, address: str) -> list:
        with self._lock:
            return [m for m in self.messages if address in m["X-Envelope-To"]]

    def link(self, address: str) -> str:
        """The invitation link in the latest message to ``address``."""
        messages = self.to(address)
        assert messages, f"no e-mail reached {address}"
        body = messages[-1].get_body(preferencelist=("plain",)).get_content()
        match = re.search(r"https?://\S+/invitations/[\w-]+/", body)
        assert match, body
        return match.group(0)


class _LoopbackController(Controller):
    """aiosmtpd's controller, bound to 127.0.0.1 on a port the system picks."""

    async def _bind(self):
        server = await self.loop.create_server(self._factory_invoker, host="127.0.0.1", port=0)
        self.port = server.sockets[0].getsockname()[1]
        return server

    def _create_server(self):
        return self._bind()


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server; Django sends through it with the SMTP backend."""
    inbox = _Inbox()
    controller = _LoopbackController(inbox, hostname="127.0.0.1", port=0)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 10
    yield inbox
    controller.stop()


def _node_or_fail():
    node = shutil.which("node")
    installed = (OIDC_DIR / "node_modules" / "oidc-provider").is_dir()
    if node and installed:
        return node
    why = (
        "Node.js is missing"
        if not node
        else "the test provider is not installed (make test runs npm ci for it)"
    )
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"OpenID Connect tests need a real provider: {why}.")
    pytest.skip(f"OpenID Connect tests skipped: {why}.")


class OidcProvider:
    def __init__(self, process, issuer):
        self.process = process
        self.issuer = issuer


@pytest.fixture
def start_oidc_provider():
    """``start_oidc_provider(redirect_uri=..., users=..., bad_token=False)`` → a running provider."""
    node = _node_or_fail()
    started = []

    def _start(*, redirect_uri: str, users: dict, bad_token: bool = False) -> OidcProvider:
        env = {
            **os.environ,
            "OIDC_CLIENT_ID": "shipcheck",
            "OIDC_CLIENT_SECRET": "shipcheck-test-secret",
            "OIDC_REDIRECT_URI": redirect_uri,
            "OIDC_USERS": json.dumps(users),
            "OIDC_BAD_TOKEN": "1" if bad_token else "0",
        }
        process = subprocess.Popen(
            [node, str(OIDC_DIR / "provider.mjs")],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        started.append(process)
        deadline = time.monotonic() + 20
        line = ""
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if line.strip().startswith("{"):
                break
            if process.poll() is not None:
                break
        assert line.strip().startswith("{"), "the OpenID Connect provider did not start"
        return OidcProvider(process, json.loads(line)["issuer"])

    yield _start
    for process in started:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
