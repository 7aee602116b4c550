"""Real peers for the notifications tests: HTTP receivers and an SMTP server on 127.0.0.1.

The receivers are the monitoring tests' ``StubServer`` (a real HTTP server on a free
port); the SMTP server is aiosmtpd, with Django's SMTP backend pointed at it. The
delivery code reaches loopback only because the tests put 127.0.0.1 on the fetch
allowlist (``allow_loopback``), as an operator would for an internal receiver.
"""

from __future__ import annotations

import email
import email.policy
import threading
import time

import pytest
from django.db import transaction

from core.events import event_type, publish
from notifications import services
from notifications.choices import DeliveryStatus
from notifications.models import Delivery
from tests.monitoring.servers import StubServer

try:
    from aiosmtpd.controller import Controller
except ImportError:  # pragma: no cover - aiosmtpd is a dev dependency
    Controller = None

# An event type of the tests' own, heard by the team and the stakeholders.
TEST_EVENT = "tests.something_happened"
event_type(TEST_EVENT, "Something happened (tests)", audience=("team", "stakeholders"))


@pytest.fixture(autouse=True)
def quick_delivery(settings):
    """Retries without waiting and short deadlines: the tests drive the attempts themselves."""
    settings.SHIPCHECK_NOTIFY_RETRY_BASE_SECONDS = 0
    settings.SHIPCHECK_NOTIFY_TIMEOUT_SECONDS = 1
    settings.SHIPCHECK_NOTIFY_MAX_ATTEMPTS = 4
    settings.SHIPCHECK_BASE_URL = "https://shipcheck.example.com"


@pytest.fixture
def allow_loopback(settings):
    settings.SHIPCHECK_FETCH_ALLOWLIST = ["127.0.0.1"]


@pytest.fixture
def receiver():
    server = StubServer()
    yield server
    server.stop()


def announce(
    project, *, key: str = TEST_EVENT, subject: str = "2.4.0 is out", body: str = "", **kw
):
    """Publish an event in its own transaction (a savepoint inside the test's)."""
    with transaction.atomic():
        return publish(key, project=project, subject=subject, body=body, **kw)


def drain(*, rounds: int = 10) -> list[str]:
    """Play the workers: attempt every row that is due until none is left (or ``rounds``)."""
    outcomes: list[str] = []
    for _ in range(rounds):
        due = list(
            Delivery.objects.filter(
                status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING]
            ).values_list("pk", flat=True)
        )
        if not due:
            break
        for pk in due:
            outcomes.append(services.delivery_attempt(delivery_id=pk))
    return outcomes


class Inbox:
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

    def wait(self, count: int, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.messages) < count:
            time.sleep(0.02)


if Controller is not None:

    class _LoopbackController(Controller):
        async def _bind(self):
            server = await self.loop.create_server(self._factory_invoker, host="127.0.0.1", port=0)
            self.port = server.sockets[0].getsockname()[1]
            return server

        def _create_server(self):
            return self._bind()


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server; Django sends through it with the SMTP backend."""
    if Controller is None:
        import os

        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("The e-mail tests need aiosmtpd (a dev dependency).")
        pytest.skip("aiosmtpd is not installed: the e-mail delivery tests are SKIPPED.")
    inbox = Inbox()
    controller = _LoopbackController(inbox, hostname="127.0.0.1", port=0)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
    yield inbox
    controller.stop()
