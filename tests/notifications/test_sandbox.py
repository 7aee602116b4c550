"""Project templates render in a sandbox that reaches only the values it is given."""

from __future__ import annotations

import pytest

from core.exceptions import ValidationFailed
from notifications import sandbox, services
from notifications.models import Delivery, MessageTemplate
from tests.notifications.conftest import announce

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "source",
    [
        "{% load static %}{% static 'x' %}",
        "{% include 'base.html' %}",
        "{% extends 'base.html' %}",
        "{% debug %}",
        "{% url 'dashboard' %}",
        "{% csrf_token %}",
        "{{ value|safe }}",
        "{{ value|pprint }}",
    ],
)
def test_sandbox__tags_and_filters_beyond_the_safe_few_are_refused(source):
    assert sandbox.template_problem(source)
    with pytest.raises(ValidationFailed):
        sandbox.render(source, {"value": "x"})


def test_sandbox__a_syntax_error_names_its_line():
    problem = sandbox.template_problem("Hello\n\n{% if release %}\nno end")
    assert problem.startswith("Line 3:")


def test_sandbox__only_plain_values_and_html_escaped(project, people):
    values = {"project": project, "who": people.alice, "text": "<script>x</script>"}
    out = sandbox.render("{{ project.pk }}|{{ who.password }}|{{ text }}", values, html=True)
    # Objects arrive as their text: no attribute of a model can be reached.
    assert out == "||&lt;script&gt;x&lt;/script&gt;"
    assert sandbox.render("{{ text }}", values) == "<script>x</script>"


def test_project_template__changes_the_messages_of_that_event_and_channel(
    project, people, settings
):
    settings.SHIPCHECK_FETCH_ALLOWLIST = ["hooks.slack.com"]
    services.channel_create(
        project=project,
        actor=people.adam,
        kind="slack",
        name="#t",
        url="https://hooks.slack.com/services/x",
        audiences=["team"],
    )
    services.template_save(
        project=project,
        actor=people.alice,
        event_key="tests.something_happened",
        channel_kind="slack",
        subject="[{{ project|upper }}] {{ subject }}",
        body="{% for k, v in data.items %}{{ k }}={{ v }} {% endfor %}",
    )
    announce(project, subject="Hello", data={"env": "prod"})
    row = Delivery.objects.get()
    assert row.subject == "[PAYMENTS] Hello" and row.body == "env=prod"
    with pytest.raises(ValidationFailed, match="Line 1"):
        services.template_save(
            project=project,
            actor=people.alice,
            event_key="tests.something_happened",
            channel_kind="slack",
            subject="{% if %}",
            body="x",
        )
    assert MessageTemplate.objects.count() == 1
