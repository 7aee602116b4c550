"""Bad files: every problem listed with its line and column, nothing applied."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from configfile.exceptions import ConfigInvalid
from configfile.services import config_apply, config_export, config_plan
from monitoring.models import HealthCheck
from projects.models import Environment, Membership

pytestmark = pytest.mark.django_db

BAD_FILE = """\
version: 1
environments:
  - name: dev
    tier: development
    colour: blue
  - name: staging
    tier: stage
  - name: dev
    tier: development
  - name: production
    tier: production
    approvals:
      required_approvals: two
roles:
  admin: [adam]
  qa: [quinn, nobody@example.com]
"""


def _errors(call) -> list[dict]:
    with pytest.raises(ConfigInvalid) as refused:
        call()
    assert refused.value.status == 400
    return refused.value.details["errors"]


def _where(errors) -> list[tuple[int, int, str]]:
    return [(e["line"], e["column"], e["path"]) for e in errors]


def test_bad_file__lists_every_problem_with_its_line_and_applies_nothing(project, people):
    config_export(project=project, user=people.adam)  # shipped templates installed beforehand
    events = AuditEvent.objects.count()
    errors = _errors(lambda: config_apply(project=project, user=people.adam, text=BAD_FILE))
    assert _where(errors) == [
        (5, 5, "environments[0].colour"),
        (7, 11, "environments[1].tier"),
        (8, 11, "environments[2].name"),
        (13, 27, "environments[3].approvals.required_approvals"),
        (16, 15, "roles.qa[1]"),
    ]
    messages = [e["message"] for e in errors]
    assert messages[0].startswith("Unknown key 'colour'.")
    assert "'stage' is not allowed here; choose one of: development" in messages[1]
    assert "listed twice (first on line 3)" in messages[2]
    assert messages[3] == "Expected a whole number, not 'two'."
    assert "nobody@example.com" in messages[4]
    assert AuditEvent.objects.count() == events
    assert Environment.objects.filter(project=project).count() == 3
    assert Membership.objects.filter(project=project, user=people.bob).exists()


def test_bad_file__plan_reports_the_same_problems(project, people):
    errors = _errors(lambda: config_plan(project=project, user=people.adam, text=BAD_FILE))
    assert len(errors) == 5


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        (
            "version: 1\nenvironments:\n  - name: dev\n    tier: [development]\n",
            4,
            11,
            "not allowed",
        ),
        ("version: 1\nenvironments: {}\n", 2, 15, "Expected a list"),
        ("version: 2\nenvironments:\n  - {name: dev, tier: development}\n", 1, 10, "Must be 1"),
        ("environments:\n  - {name: dev, tier: development}\n", 1, 1, "Missing 'version'"),
        ("version: 1\nenvironments:\n  - name: dev\n    tier: development\n   bad\n", 5, 4, "YAML"),
        ("version: 1\nversion: 1\nenvironments: []\n", 2, 1, "appears twice"),
        (
            "version: 1\nenvironments:\n  - {name: 'no spaces', tier: staging}\n",
            3,
            12,
            "valid name",
        ),
        ("- just\n- a list\n", 1, 1, "Expected a mapping"),
        ("", 1, 1, "empty"),
        (
            "version: 1\nenvironments:\n  - name: production\n    tier: production\n"
            "    monitoring:\n      rollback_hook:\n        url: https://x.example.com\n"
            "        secret_env: 'not a name'\n",
            8,
            21,
            "not an environment variable name",
        ),
        (
            "version: 1\nenvironments:\n  - name: production\n    tier: production\n"
            "    monitoring:\n      health_checks:\n        - name: A\n          url: ftp://x\n",
            8,
            16,
            "Only http:// and https://",
        ),
        (
            "version: 1\nenvironments:\n  - {name: dev, tier: development}\n"
            "checklists:\n  release_types:\n    major: no-such-template\n",
            6,
            12,
            "No checklist template 'no-such-template'",
        ),
        (
            "version: 1\nenvironments:\n  - name: dev\n    tier: development\n"
            "    approvals: {requires_qa_signoff: true}\n",
            5,
            38,
            "first environment",
        ),
    ],
)
def test_bad_file__each_kind_of_problem_names_its_place(project, people, text, line, column, words):
    errors = _errors(lambda: config_plan(project=project, user=people.adam, text=text))
    assert any(
        e["line"] == line and e["column"] == column and words in e["message"] for e in errors
    ), errors


def test_aliases_that_explode__are_refused_not_expanded(project, people):
    lines = ["version: 1", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for n in range(1, 8):
        lines.append(f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 10) + "]")
    lines.append("environments: *a7")
    errors = _errors(lambda: config_plan(project=project, user=people.adam, text="\n".join(lines)))
    assert "more than" in errors[0]["message"]


def test_bad_check_and_good_rest__nothing_is_applied(project, people):
    text = (
        "version: 1\nenvironments:\n  - {name: dev, tier: development}\n"
        "  - {name: staging, tier: staging}\n  - name: production\n    tier: production\n"
        "    monitoring:\n      health_checks:\n        - name: API\n"
        "          url: https://api.example.com/healthz\n"
        "          timeout_seconds: 999\n"
    )
    errors = _errors(lambda: config_apply(project=project, user=people.adam, text=text))
    assert _where(errors) == [
        (11, 28, "environments[2].monitoring.health_checks[0].timeout_seconds")
    ]
    assert not HealthCheck.objects.exists()
