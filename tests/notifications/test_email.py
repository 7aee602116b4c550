"""E-mail deliveries through a real SMTP server (aiosmtpd): both parts, one-click unsubscribe."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from audit.models import AuditEvent
from core.events import event_type
from notifications import services
from notifications.choices import DeliveryStatus
from notifications.models import Delivery, Subscriber
from tests.notifications.conftest import announce, drain

pytestmark = pytest.mark.django_db


@pytest.fixture
def mail_channel(project, people):
    services.channel_create(
        project=project,
        actor=people.adam,
        kind="email",
        name="Stakeholder e-mail",
        audiences=["stakeholders", "team"],
    )
    services.subscriber_add(
        project=project, actor=people.adam, audience="stakeholders", user=people.pat
    )
    services.subscriber_add(
        project=project,
        actor=people.adam,
        audience="stakeholders",
        email="cfo@client.example",
        name="CFO",
    )


def test_email__html_and_text_parts_and_one_click_unsubscribe_headers(
    project, mail_channel, smtp_server
):
    announce(
        project,
        subject="2.4.0 is live",
        body="**Checkout** is faster.",
        url="/releases/payments/2.4.0/",
    )
    assert drain() == ["delivered", "delivered"]
    smtp_server.wait(2)
    (message,) = smtp_server.to("cfo@client.example")
    assert message["Subject"] == "2.4.0 is live"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "**Checkout** is faster." in text
    assert "<strong>Checkout</strong> is faster." in html
    assert "https://shipcheck.example.com/releases/payments/2.4.0/" in text
    link = re.fullmatch(
        r"<(https://shipcheck\.example\.com/notifications/unsubscribe/[^>]+/)>",
        message["List-Unsubscribe"].strip(),
    )
    assert link, message["List-Unsubscribe"].strip()
    assert message["List-Unsubscribe-Post"].strip() == "List-Unsubscribe=One-Click"
    assert link.group(1) in text and link.group(1) in html
    assert message["X-Shipcheck-Delivery"] == str(
        Delivery.objects.get(destination="cfo@client.example").uid
    )
    assert smtp_server.to("pat@example.com")


def test_unsubscribe__one_click_post_without_signing_in_stops_the_mail(
    project, mail_channel, smtp_server
):
    announce(project)
    drain()
    smtp_server.wait(2)
    (message,) = smtp_server.to("cfo@client.example")
    url = (
        message["List-Unsubscribe"].strip().strip("<>").replace("https://shipcheck.example.com", "")
    )
    anonymous = Client(enforce_csrf_checks=True)
    page = anonymous.get(url)
    assert page.status_code == 200 and b"Stop e-mail to cfo@client.example" in page.content
    answer = anonymous.post(url, {"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200 and b"You are unsubscribed" in answer.content
    assert Subscriber.objects.get(email="cfo@client.example").unsubscribed_at is not None
    assert AuditEvent.objects.filter(action="notifications.unsubscribed").count() == 1
    announce(project, subject="second")
    drain()
    assert Delivery.objects.filter(destination="cfo@client.example").count() == 1
    assert Delivery.objects.filter(destination="pat@example.com").count() == 2


def test_unsubscribe__a_tampered_link_is_refused_clearly(project, mail_channel):
    subscriber = Subscriber.objects.get(email="cfo@client.example")
    token = services.unsubscribe_token(subscriber)
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    for method in ("get", "post"):
        answer = getattr(Client(), method)(f"/notifications/unsubscribe/{forged}/")
        assert answer.status_code == 404
        assert b"changed or cut short" in answer.content
    subscriber.refresh_from_db()
    assert subscriber.unsubscribed_at is None


def test_preferences__off_app_and_digest(project, people, mail_channel, smtp_server):
    services.subscriber_add(project=project, actor=people.adam, audience="team", user=people.bob)
    services.subscriber_add(project=project, actor=people.adam, audience="team", user=people.quinn)
    services.preference_set(project=project, actor=people.pat, event_key="", mode="digest")
    services.preference_set(
        project=project, actor=people.bob, event_key="tests.something_happened", mode="off"
    )
    services.preference_set(project=project, actor=people.quinn, event_key="", mode="app")
    announce(project, subject="one")
    announce(project, subject="two")
    rows = {(r.destination, r.status) for r in Delivery.objects.all()}
    assert ("pat@example.com", DeliveryStatus.DIGEST) in rows
    assert not any(d == "bob@example.com" for d, _ in rows)
    assert not any(d == "quinn@example.com" for d, _ in rows)
    from core.models import Notification

    assert Notification.objects.filter(recipient=people.quinn).count() == 2
    drain()
    assert smtp_server.to("pat@example.com") == []
    assert services.digest_send() == 1
    drain()
    smtp_server.wait(3)
    (digest,) = smtp_server.to("pat@example.com")
    assert "2 updates" in digest["Subject"]
    text = digest.get_body(preferencelist=("plain",)).get_content()
    assert "one" in text and "two" in text
    assert Delivery.objects.filter(status=DeliveryStatus.BUNDLED).count() == 2


def test_people_told_directly_are_not_mailed_twice(project, people, mail_channel, smtp_server):
    announce(project, recipients=[people.pat])
    drain()
    assert not Delivery.objects.filter(destination="pat@example.com").exists()


def test_release_notes__reach_stakeholders_with_the_notes(
    project, people, release, mail_channel, smtp_server
):
    # Declared by the releasenotes app; declaring it twice keeps the first declaration.
    event_type(
        "releasenotes.published", "Release notes published", audience=("stakeholders", "customers")
    )
    announce(
        project,
        key="releasenotes.published",
        subject="Release notes: 2.4.0",
        release=release,
        data={"version": "2.4.0", "markdown": "## New\n\n- One-page checkout"},
    )
    drain()
    smtp_server.wait(2)
    (message,) = smtp_server.to("cfo@client.example")
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "<h2>New</h2>" in html and "One-page checkout" in html
    assert Delivery.objects.filter(release=release).count() == 2


def test_subscribers__addresses_validated_and_members_only_by_name(project, people):
    from core.exceptions import Conflict, ValidationFailed

    with pytest.raises(ValidationFailed, match="not an e-mail address"):
        services.subscriber_add(
            project=project, actor=people.adam, audience="customers", email="nope"
        )
    with pytest.raises(ValidationFailed, match="Unknown subscriber group"):
        services.subscriber_add(
            project=project, actor=people.adam, audience="aliens", email="a@b.example"
        )
    with pytest.raises(ValidationFailed, match="members of the project"):
        services.subscriber_add(
            project=project, actor=people.adam, audience="team", user=people.olga
        )
    services.subscriber_add(
        project=project, actor=people.adam, audience="customers", email="A@B.example"
    )
    with pytest.raises(Conflict, match="already"):
        services.subscriber_add(
            project=project, actor=people.adam, audience="customers", email="a@b.example"
        )


def test_published_release_notes__a_stakeholder_e_mail_holds_them(
    project, people, release, mail_channel, smtp_server
):
    from releasenotes.services import notes_edit, notes_publish, notes_regenerate
    from tests.releasenotes.helpers import add_commits

    add_commits(release, people.alice, "feat: one-page checkout", "fix: rounding of VAT")
    notes_regenerate(release=release, actor=people.alice)
    notes_edit(release=release, actor=people.alice, written="Thanks to the payments team.")
    notes_publish(release=release, actor=people.alice)
    drain()
    smtp_server.wait(2)
    (message,) = smtp_server.to("cfo@client.example")
    assert "2.4.0" in message["Subject"]
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "one-page checkout" in text.lower()
    assert "ounding of VAT" in html and "<h" in html
    assert "Thanks to the payments team." in text
    assert text.lower().count("rounding of vat") == 1
    assert (
        Delivery.objects.get(destination="cfo@client.example").event_key == "releasenotes.published"
    )
