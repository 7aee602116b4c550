"""The notification pages: who hears what, the delivery log, send again, templates, preferences."""

from __future__ import annotations

import pytest
from django.urls import reverse

from notifications import services
from notifications.choices import DeliveryStatus
from notifications.models import Channel, Delivery, MessageTemplate, Preference, Subscriber
from tests.monitoring.servers import Answer
from tests.notifications.conftest import announce, drain

pytestmark = pytest.mark.django_db


def login(client, person):
    client.force_login(person)
    return client


def settings_url(project):
    return reverse("notifications:settings", args=[project.slug])


def test_settings_page__admin_sees_forms_auditor_reads_outsider_404(client, project, people):
    services.subscriber_add(project=project, actor=people.adam, audience="qa", user=people.quinn)
    page = login(client, people.adam).get(settings_url(project))
    assert page.status_code == 200
    assert b"Add a channel" in page.content and b"Quinn" in page.content
    page = login(client, people.aud).get(settings_url(project))
    assert page.status_code == 200 and b"Add a channel" not in page.content
    assert b"you can read it" in page.content
    assert login(client, people.olga).get(settings_url(project)).status_code == 404


def test_add_channel__the_secret_is_shown_once(client, project, people, settings):
    settings.SHIPCHECK_FETCH_ALLOWLIST = ["hooks.example.com"]
    login(client, people.adam)
    answer = client.post(
        reverse("notifications:channel-add", args=[project.slug]),
        {
            "kind": "webhook",
            "name": "Ops bot",
            "url": "https://hooks.example.com/in",
            "audiences": ["operations"],
        },
    )
    assert answer.status_code == 200
    channel = Channel.objects.get()
    assert channel.secret.encode() in answer.content
    again = client.get(settings_url(project))
    assert channel.secret.encode() not in again.content and b"Ops bot" in again.content


def test_add_channel__an_internal_url_is_refused_on_the_page(client, project, people):
    login(client, people.adam)
    answer = client.post(
        reverse("notifications:channel-add", args=[project.slug]),
        {"kind": "slack", "name": "#x", "url": "http://127.0.0.1:8000/", "audiences": ["team"]},
    )
    assert answer.status_code == 200
    assert b"Nothing was changed." in answer.content and b"loopback" in answer.content
    assert not Channel.objects.exists()


def test_writes__refused_to_engineers_and_auditors(client, project, people):
    for person in (people.bob, people.aud):
        login(client, person)
        answer = client.post(
            reverse("notifications:subscriber-add", args=[project.slug]),
            {"audience": "customers", "email": "x@client.example"},
        )
        assert answer.status_code in (200, 403)
        assert (
            b"Only a project admin or a release manager" in answer.content
            or answer.status_code == 403
        )
    assert not Subscriber.objects.exists()


def test_add_and_remove_a_subscriber(client, project, people):
    login(client, people.alice)
    answer = client.post(
        reverse("notifications:subscriber-add", args=[project.slug]),
        {"audience": "customers", "email": "buyer@client.example", "name": "Buyer"},
        follow=True,
    )
    assert b"Subscriber added." in answer.content and b"buyer@client.example" in answer.content
    subscriber = Subscriber.objects.get()
    client.post(reverse("notifications:subscriber-remove", args=[subscriber.pk]))
    assert not Subscriber.objects.exists()


def _dead_letters(project, people, receiver, count):
    services.channel_create(
        project=project,
        actor=people.adam,
        kind="webhook",
        name=f"hook{count}",
        url=receiver.url("/down"),
        audiences=["team"],
    )
    receiver.route("/down", Answer(500))
    for n in range(count):
        announce(project, subject=f"event {n}")
    drain()


@pytest.mark.usefixtures("allow_loopback")
def test_delivery_log__constant_queries_and_send_again(
    client, project, people, receiver, django_assert_max_num_queries
):
    login(client, people.alice)
    url = reverse("notifications:log", args=[project.slug])
    _dead_letters(project, people, receiver, 2)
    with django_assert_max_num_queries(14):
        small = client.get(url + "?status=dead")
    _dead_letters(project, people, receiver, 12)
    with django_assert_max_num_queries(14):
        large = client.get(url + "?status=dead")
    assert large.status_code == small.status_code == 200
    # Two channels hear the twelve later events: 2 + 2 × 12 dead letters.
    assert large.content.count(b"Send again</button>") == 26
    row = Delivery.objects.filter(status=DeliveryStatus.DEAD).first()
    receiver.route("/down", Answer(200))
    answer = client.post(reverse("notifications:resend", args=[row.pk]), HTTP_HX_REQUEST="true")
    assert answer.status_code == 200
    row.refresh_from_db()
    # Eager Celery ran the queued attempt when the test's callbacks ran (on_commit is held);
    # either way the row left the dead letters.
    assert row.status in (DeliveryStatus.PENDING, DeliveryStatus.DELIVERED)
    assert b"Send again" not in answer.content


@pytest.mark.usefixtures("allow_loopback")
def test_delivery_log__engineers_read_without_the_button(client, project, people, receiver):
    _dead_letters(project, people, receiver, 1)
    page = login(client, people.bob).get(reverse("notifications:log", args=[project.slug]))
    assert page.status_code == 200 and b"Dead letter" in page.content
    assert b"Send again</button>" not in page.content
    row = Delivery.objects.get()
    assert client.post(reverse("notifications:resend", args=[row.pk])).status_code == 403
    assert (
        login(client, people.olga).post(reverse("notifications:resend", args=[row.pk])).status_code
        == 404
    )


@pytest.mark.usefixtures("allow_loopback")
def test_release_page__shows_who_was_told(client, project, people, release, receiver):
    services.channel_create(
        project=project,
        actor=people.adam,
        kind="webhook",
        name="Hook",
        url=receiver.url("/ok"),
        audiences=["team"],
    )
    receiver.route("/ok", Answer(200))
    announce(project, subject="Told everyone", release=release)
    drain()
    page = login(client, people.bob).get(release.get_absolute_url())
    assert page.status_code == 200
    assert b"Who was told" in page.content and b"Told everyone" in page.content
    assert b"Delivered" in page.content


def test_templates__preview_save_and_a_syntax_error_with_its_line(client, project, people):
    login(client, people.adam)
    url = reverse("notifications:templates", args=[project.slug])
    assert client.get(url).status_code == 200
    bad = client.post(
        url,
        {
            "event_key": "deployment.succeeded",
            "channel_kind": "slack",
            "subject": "{{ subject }}",
            "body": "Hello\n{% if release %}\n",
            "action": "save",
        },
    )
    assert b"Not saved." in bad.content and b"Line 2" in bad.content
    assert not MessageTemplate.objects.exists()
    good = client.post(
        url,
        {
            "event_key": "deployment.succeeded",
            "channel_kind": "slack",
            "subject": "Shipped {{ release }}",
            "body": "**{{ project|upper }}** <b>{{ data.environment }}</b>",
            "action": "save",
        },
    )
    assert b"Template saved" in good.content
    assert b"Shipped 2.4.0" in good.content
    assert b"<strong>PAYMENTS</strong>" in good.content
    assert MessageTemplate.objects.get().subject == "Shipped {{ release }}"


def test_preferences_page__saves_the_persons_choices(client, project, people):
    login(client, people.bob)
    url = reverse("notifications:preferences", args=[project.slug])
    assert client.get(url).status_code == 200
    answer = client.post(url, {"mode__all": "digest", "mode__deployment.failed": "email"})
    assert b"Your preferences are saved." in answer.content
    assert dict(Preference.objects.filter(user=people.bob).values_list("event_key", "mode")) == {
        "": "digest",
        "deployment.failed": "email",
    }
    assert login(client, people.olga).get(url).status_code == 404


def test_project_page__links_to_the_notification_pages(client, project, people):
    page = login(client, people.adam).get(reverse("projects:detail", args=[project.slug]))
    assert settings_url(project).encode() in page.content


@pytest.mark.usefixtures("allow_loopback")
def test_checklist__stakeholders_item_ticked_with_the_log_as_evidence(
    client, project, people, release, receiver
):
    from checklists.models import Item

    item = Item.objects.filter(checklist__release=release, text__icontains="stakeholder").first()
    if item is None:
        pytest.fail("the default checklist has a 'stakeholders' item")
    url = reverse("notifications:stakeholders-told", args=[item.pk])
    login(client, people.alice)
    # Nobody told yet: refused, the item stays open.
    client.post(url)
    item.refresh_from_db()
    assert item.status == "open"
    services.channel_create(
        project=project,
        actor=people.adam,
        kind="webhook",
        name="Board",
        url=receiver.url("/ok"),
        audiences=["stakeholders"],
    )
    receiver.route("/ok", Answer(200))
    announce(project, subject="2.4.0 is coming", release=release)
    drain()
    page = client.get(release.get_absolute_url())
    assert b"with this log as evidence" in page.content
    answer = client.post(url, follow=True)
    assert answer.status_code == 200
    item.refresh_from_db()
    assert item.status == "done"
    assert item.evidence == (
        "https://shipcheck.example.com/notifications/projects/payments/deliveries/?release=2.4.0"
    )
    log = client.get(item.evidence.replace("https://shipcheck.example.com", ""))
    assert b"2.4.0 is coming" in log.content


def test_settings_page__constant_queries_whatever_the_number_of_subscribers(
    client, project, people, django_assert_max_num_queries, settings
):
    settings.SHIPCHECK_FETCH_ALLOWLIST = ["hooks.slack.com"]
    login(client, people.adam)

    def grow(start):
        for n in range(start, start + 5):
            services.subscriber_add(
                project=project, actor=people.adam, audience="customers", email=f"c{n}@x.example"
            )
            services.channel_create(
                project=project,
                actor=people.adam,
                kind="slack",
                name=f"#c{n}",
                url="https://hooks.slack.com/services/x",
                audiences=["team"],
            )

    grow(0)
    with django_assert_max_num_queries(16):
        assert client.get(settings_url(project)).status_code == 200
    grow(100)
    with django_assert_max_num_queries(16):
        page = client.get(settings_url(project))
    assert page.content.count(b"@x.example") >= 10
