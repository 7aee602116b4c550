"""The auditor reads everything in their project and changes nothing: tried on every URL of the product.

The test walks Django's URL resolver, so pages and API endpoints that other
apps add are covered without editing this file. For each pattern it fills the
URL's arguments with objects of the auditor's own project (the model is
guessed from the view, the argument's name and the path segment before it;
ambiguous guesses are all tried), sends POST, PUT, PATCH and DELETE twice, once
with a plausible body and once with an empty one, and requires that no row
changes anywhere and that every answer is a refusal: 403, 404 or 405. A 200
with a message, a redirect or a 400 about the body is a failure: the auditor's
right is checked before anything they send is read. Refusals recorded in the
trail (``*.denied`` events) are not changes. Patterns whose arguments cannot be
filled are skipped and listed.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from projects.models import Project

# The apps whose tables must not change, plus the user table.
DOMAIN_APPS = (
    "core",
    "audit",
    "projects",
    "releases",
    "checklists",
    "approvals",
    "monitoring",
    "integrations",
    "accounts",
)
ALLOWED = {403, 404, 405}
METHODS = ("post", "put", "patch", "delete")

# Not domain writes, or not the auditor's to reach: each with the reason.
EXEMPT = {
    "login": "signs a person in; changes no domain data",
    "logout": "ends the auditor's own session",
    "notifications-read": "marks the auditor's own notifications read (their inbox, not the project)",
    "session-end": "ends the auditor's own other sessions",
    "invitation-accept": "accepts an invitation into the signed-in person's own account (needs its link)",
    "account": "sets the auditor's own time zone (how they read times, not a project record)",
    "feed-token": "creates or revokes the auditor's own calendar feed URL (their subscription)",
    "ofrep-bulk": "applications' flag evaluation: an SDK key, never a session (401 to anyone else)",
    "ofrep-flag": "applications' flag evaluation: an SDK key, never a session (401 to anyone else)",
    "unleash-register": "Unleash SDKs' start-up call: an SDK key, never a session (401 otherwise)",
    "unleash-metrics": "Unleash SDKs' usage report: an SDK key, never a session (401 otherwise)",
}
# django-allauth's pages: the person's own sign-in, second factor and sessions, no domain data.
EXEMPT_PREFIXES = ("account_", "socialaccount_", "mfa_", "usersessions_", "openid_connect_")
EXEMPT_NAMESPACES = {"admin": "Django admin: staff only, and the auditor is not staff"}

# A body that passes most forms' validation, so that the permission check (not a
# missing field) is what answers.
PLAUSIBLE = {
    "reason": "audit probe",
    "comment": "audit probe",
    "note": "audit probe",
    "notes": "audit probe",
    "title": "Audit probe",
    "text": "audit probe",
    "summary": "audit probe",
    "justification": "audit probe",
    "decision": "approve",
    "vote": "go",
    "kind": "deployment",
    "environment": "production",
    "strategy": "all_at_once",
    "succeeded": "true",
    "evidence": "https://example.com/evidence",
    "version": "7.7.7",
    "name": "audit-probe",
    "key": "AUD-1",
    "checked": "true",
    "role": "auditor",
    "seat": "guest",
    "person": "aud",
    "scopes": "read",
    "url": "https://example.com/health",
    "action": "accept",
    "output": "audit probe",
    "tickets": [],
    "commits": [],
}
# String arguments that cannot be guessed from the data: the values worth trying.
STRING_HINTS = {
    "op": [
        "settings",
        "draft",
        "discard",
        "publish",
        "add-step",
        "add-item",
        "edit",
        "delete",
        "move-up",
    ],
    "kind": ["health", "metric", "deployment", "scope", "qa_signoff"],
    "number": ["1"],
}
MAX_COMBINATIONS = 4
PER_MODEL = 2


def _patterns(resolver=None, namespace=None, prefix=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            sub = ":".join(part for part in (namespace, entry.namespace) if part) or None
            yield from _patterns(entry, sub, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield namespace, entry, prefix + str(entry.pattern)


def _kwarg_names(route: str) -> list[tuple[str, str]]:
    """(name, converter or 'regex') for each argument of a route."""
    found = re.findall(r"<(?:(\w+):)?(\w+)>", route)
    found = [(name, conv or "str") for conv, name in found]
    found += [(name, "regex") for name in re.findall(r"\(\?P<(\w+)>", route)]
    return found


def _segment_before(route: str, name: str) -> str:
    """The nearest literal path segment before the argument ('releases' in 'releases/<int:pk>/')."""
    head = re.split(r"<(?:\w+:)?" + name + r">|\(\?P<" + name + r">", route)[0]
    literals = [
        part for part in re.split(r"/", head) if part and "<" not in part and "(" not in part
    ]
    return literals[-1].lstrip("^") if literals else ""


def _view_model(callback):
    cls = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if cls is None:
        return None
    queryset = getattr(cls, "queryset", None)
    if queryset is not None:
        return queryset.model
    serializer = getattr(cls, "serializer_class", None)
    meta = getattr(serializer, "Meta", None)
    return getattr(meta, "model", None) or getattr(cls, "model", None)


def _models_named(word: str, app_label: str | None):
    word = word.lower().replace("-", "").replace("_", "")
    if word.endswith("ies"):
        word = word[:-3] + "y"
    elif word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    if not word:
        return []
    candidates = [m for m in apps.get_models() if m._meta.app_label in DOMAIN_APPS]
    ranked = []
    for same_app in (True, False):
        for exact in (True, False):
            for model in candidates:
                name = model._meta.model_name
                if (model._meta.app_label == app_label) != same_app:
                    continue
                matches = (
                    (name == word) if exact else (name.endswith(word) or name.startswith(word))
                )
                if matches and model not in ranked:
                    ranked.append(model)
    return ranked[:3]


def _path_to_project(model, depth=0, seen=()):
    """The ORM lookup from ``model`` to its Project (e.g. 'window__deployment__release__project')."""
    if model is Project:
        return ""
    if depth > 4:
        return None
    for field in model._meta.get_fields():
        if (
            isinstance(field, models.ForeignKey | models.OneToOneField)
            and field.concrete
            and field.related_model
        ):
            target = field.related_model
            if target in seen:
                continue
            rest = _path_to_project(target, depth + 1, (*seen, model))
            if rest is not None:
                return field.name + ("__" + rest if rest else "")
    return None


def _instances(model, project) -> list:
    path = _path_to_project(model)
    qs = model.objects.all()
    if path is not None:
        qs = qs.filter(**({path: project} if path else {"pk": project.pk}))
    return list(qs.order_by("-pk")[:PER_MODEL])


def _candidates(namespace, pattern, route, name, conv, world):
    project = world["project"]
    lower = name.lower()
    if lower in ("slug", "project_slug", "project"):
        return [project.slug]
    if lower in ("environment", "env", "env_name", "environment_name"):
        return ["production", "staging"]
    if lower == "version":
        return [world["release"].version]
    if lower in STRING_HINTS:
        return STRING_HINTS[lower]
    app_label = (namespace or "").split(":")[0].removesuffix("-api") or None
    if lower in ("pk", "id"):
        models_ = [m for m in [_view_model(pattern.callback)] if m is not None]
        segment = _segment_before(route, name)
        for word in [segment, *reversed(re.split(r"[-_]", segment))]:
            models_ += [m for m in _models_named(word, app_label) if m not in models_]
        models_ = models_[:5]
    else:
        models_ = _models_named(re.sub(r"_(pk|id)$", "", lower), app_label)
    values = []
    for model in models_:
        if model is Project:
            values.append(project.slug if conv in ("slug", "str") else project.pk)
            continue
        values += [obj.pk for obj in _instances(model, project)]
    return list(dict.fromkeys(values))


def _fingerprint(since_seq: int) -> dict[str, str]:
    """A digest of every domain table; audit events newer than ``since_seq`` are judged apart."""
    from audit.models import AuditEvent

    User = get_user_model()
    state = {}
    for model in apps.get_models():
        if model._meta.app_label not in DOMAIN_APPS and model is not User:
            continue
        qs = model.objects.all()
        if model is AuditEvent:
            qs = qs.filter(seq__lte=since_seq)
        names = [
            f.attname
            for f in model._meta.concrete_fields
            if not (model is User and f.name == "last_login")
        ]
        rows = list(qs.order_by("pk").values_list(*names))
        state[model._meta.label] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return state


def _write_counter() -> int:
    """How many rows this connection's statements have touched so far (cheap; may overcount).

    A change of this number sends the test to the full (slow) fingerprint.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT total_changes()")
        else:
            cursor.execute(
                "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) "
                "FROM pg_stat_xact_user_tables"
            )
        return int(cursor.fetchone()[0])


def _head() -> int:
    from audit.models import AuditEvent

    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def _changes(before: dict, since_seq: int) -> list[str]:
    """Tables that changed, plus new audit events that are not recorded refusals."""
    from audit.models import AuditEvent

    after = _fingerprint(since_seq)
    changed = [label for label in before if before[label] != after.get(label)]
    new = AuditEvent.objects.filter(seq__gt=since_seq).exclude(
        action__endswith=".denied", to_state="denied"
    )
    changed += [f"audit event {e.action}" for e in new]
    return changed


def _send(client, method: str, url: str, body: dict):
    send = getattr(client, method)
    if url.startswith("/api/"):
        return send(url, data=json.dumps(body), content_type="application/json")
    if method == "post":
        return send(url, data=body)
    return send(url, data="", content_type="application/x-www-form-urlencoded")


@pytest.fixture
def world(release, people, envs, project):
    """One project with something of every kind for the URLs to point at."""
    from approvals.models import Approval, EmergencyReview
    from approvals.services import meeting_schedule, meeting_vote
    from checklists.models import ChecklistTemplate, ItemTemplate, StepTemplate, TemplateVersion
    from core.notifications import notification_send
    from monitoring.models import (
        EnvironmentPolicy,
        HealthCheck,
        MetricCheck,
        MonitoringWindow,
        WindowCheck,
    )
    from projects.choices import Role
    from projects.models import Membership
    from projects.services import api_token_create
    from releases import models as release_models
    from releases.services import release_commits_add, release_tickets_add
    from tests.factories import DeploymentFactory, UserFactory

    now = timezone.now()
    release_tickets_add(
        release=release, tickets=[{"key": "PAY-1", "title": "Scope"}], actor=people.alice
    )
    release_commits_add(
        release=release, commits=[{"sha": "abc123def456", "message": "m"}], actor=people.alice
    )
    DeploymentFactory(
        release=release, environment=envs["dev"], status="succeeded", deployed_by=people.bob
    )
    active = DeploymentFactory(
        release=release,
        environment=envs["staging"],
        status="in_progress",
        deployed_by=people.bob,
        started_at=now,
    )
    release_models.TestRun.objects.create(release=release, name="unit", total=10)
    approval = Approval.objects.create(
        release=release,
        environment=envs["production"],
        kind="deployment",
        person=people.ada,
        role="approver",
        decision="approve",
        release_version=release.version,
    )
    EmergencyReview.objects.create(
        release=release, approval=approval, due_at=now + timedelta(hours=48)
    )
    meeting = meeting_schedule(
        release=release, environment=envs["production"], scheduled_for=now, actor=people.alice
    )
    meeting_vote(meeting=meeting, vote="go", actor=people.ada)
    EnvironmentPolicy.objects.create(environment=envs["production"])
    HealthCheck.objects.create(
        environment=envs["production"], name="web", url="https://example.com/health"
    )
    MetricCheck.objects.create(
        environment=envs["production"], name="errors", url="https://example.com/metrics"
    )
    window = MonitoringWindow.objects.create(
        deployment=active,
        kind="post_deploy",
        status="inconclusive",
        poll_interval=timedelta(seconds=10),
        started_at=now,
        ends_at=now + timedelta(minutes=30),
    )
    WindowCheck.objects.create(window=window, kind="health", name="web")
    template = ChecklistTemplate.objects.create(project=project, slug="ours", name="Ours")
    version = TemplateVersion.objects.create(template=template, number=1)
    step = StepTemplate.objects.create(version=version, title="Step")
    ItemTemplate.objects.create(step=step, text="Item")
    api_token_create(project=project, name="ci", scopes=["read", "deployments"], actor=people.adam)
    from django.db import transaction

    with transaction.atomic():
        notification_send(recipients=[people.aud], subject="For the auditor", project=project)
    writer = UserFactory(username="writer")
    for role in Role.values:
        if role != Role.AUDITOR:
            Membership.objects.create(project=project, user=writer, role=role)
    return {"project": project, "release": release, "people": people, "writer": writer}


def _walk(client, world, *, only=None) -> dict:
    """Send every write to every URL pattern (or those named in ``only``) as the auditor."""
    bodies = ({**PLAUSIBLE, "project": world["project"].slug}, {})
    report = {"tried": 0, "skipped": [], "failures": []}
    failures = report["failures"]
    since = _head()
    before = _fingerprint(since)
    counter = _write_counter()
    for namespace, pattern, route in _patterns():
        name = f"{namespace}:{pattern.name}" if namespace else pattern.name
        if only is not None and name not in only:
            continue
        top = (namespace or "").split(":")[0]
        if top in EXEMPT_NAMESPACES or pattern.name in EXEMPT:
            report["skipped"].append(
                (name or route, EXEMPT_NAMESPACES.get(top) or EXEMPT[pattern.name])
            )
            continue
        if pattern.name and pattern.name.startswith(EXEMPT_PREFIXES):
            report["skipped"].append((name or route, "the person's own sign-in (django-allauth)"))
            continue
        if not pattern.name:
            report["skipped"].append((route, "unnamed pattern"))
            continue
        options = []
        for kwarg, conv in _kwarg_names(route):
            values = _candidates(namespace, pattern, route, kwarg, conv, world)
            if not values:
                options = None
                report["skipped"].append((name, f"no value for <{kwarg}> in the auditor's project"))
                break
            options.append([(kwarg, v) for v in values])
        if options is None:
            continue
        for combo in itertools.islice(itertools.product(*options), MAX_COMBINATIONS):
            try:
                url = reverse(name, kwargs=dict(combo))
            except NoReverseMatch:
                continue
            for method, body in itertools.product(METHODS, bodies):
                response = _send(client, method, url, body)
                report["tried"] += 1
                which = "an empty body" if not body else "a plausible body"
                if _write_counter() != counter:
                    changed = _changes(before, since)
                    counter = _write_counter()
                    if changed:
                        failures.append(
                            f"{method.upper()} {url} ({name}) with {which} changed {', '.join(changed)}"
                        )
                        since = _head()
                        before = _fingerprint(since)
                        continue
                if response.status_code not in ALLOWED:
                    failures.append(
                        f"{method.upper()} {url} ({name}) with {which} answered the auditor "
                        f"{response.status_code} (expected 403, 404 or 405)"
                    )
    return report


@pytest.fixture
def auditor_client(client, people):
    client.force_login(people.aud)
    return client


def test_auditor__every_write_everywhere__is_refused_and_changes_nothing(
    auditor_client, world, capsys
):
    report = _walk(auditor_client, world)
    with capsys.disabled():
        print(
            f"\nauditor read-only walk: {report['tried']} write requests, {len(report['failures'])} failures."
        )
        print("Skipped patterns:")
        for what, why in report["skipped"]:
            print(f"  - {what}: {why}")
    assert report["tried"] > 600
    assert not report["failures"], "The auditor could write (or was not refused):\n" + "\n".join(
        report["failures"]
    )


def test_walk__catches_a_leaking_endpoint(auditor_client, world, settings):
    """The walk itself: an endpoint that lets anybody write, one that says 200 to a refusal and one
    that reads the body before the person's rights all fail it; a proper refusal passes."""
    settings.ROOT_URLCONF = "tests.audit.leaky_urls"
    report = _walk(
        auditor_client,
        world,
        only={"leak-write", "leak-soft-refusal", "leak-form-first", "leak-safe"},
    )
    failures = "\n".join(report["failures"])
    assert "leak-write) with a plausible body changed releases.Ticket" in failures
    assert "leak-soft-refusal) with a plausible body answered the auditor 200" in failures
    assert "leak-form-first) with an empty body answered the auditor 400" in failures
    assert "leak-form-first) with a plausible body" not in failures
    assert "leak-safe" not in failures
