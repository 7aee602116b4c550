"""The flags page of an environment and the release page's rollout panel."""

from __future__ import annotations

from flags.models import Flag, RolloutPlan, SdkKey
from flags.services import flag_create, plan_create


def test_flags_page_lists_creates_and_changes(client, people, prod, flag):
    client.force_login(people.alice)
    page = client.get("/projects/payments/flags/production/")
    assert page.status_code == 200
    assert b"fast-checkout" in page.content and b"10 %" in page.content
    created = client.post(
        "/projects/payments/flags/production/",
        {"form": "flag", "key": "dark-mode", "rollout": "20"},
    )
    assert created.status_code == 302
    dark = Flag.objects.get(key="dark-mode")
    assert dark.rollout == 20 and not dark.enabled
    client.post(
        f"/flags/{dark.pk}/edit/",
        {"enabled": "on", "rollout": "40", "stickiness": "sessionId", "beta_testers": "a\nb"},
    )
    dark.refresh_from_db()
    assert (dark.enabled, dark.rollout, dark.stickiness, dark.beta_testers) == (
        True,
        40,
        "sessionId",
        ["a", "b"],
    )
    bad = client.post(f"/flags/{dark.pk}/edit/", {"rollout": "400"})
    assert bad.status_code == 200 and b"0 to 100" in bad.content
    assert client.get("/projects/payments/flags/").status_code == 302


def test_sdk_key_shown_once_and_admin_only(client, people, prod):
    client.force_login(people.alice)
    assert (
        client.post(
            "/projects/payments/flags/production/", {"form": "key", "name": "x"}
        ).status_code
        == 403
    )
    client.force_login(people.adam)
    answer = client.post(
        "/projects/payments/flags/production/", {"form": "key", "name": "checkout"}
    )
    assert answer.status_code == 200 and b"scf_" in answer.content
    assert b"scf_" not in client.get("/projects/payments/flags/production/").content
    assert SdkKey.objects.count() == 1


def test_outsider_sees_nothing(client, people, prod, flag):
    client.force_login(people.olga)
    assert client.get("/projects/payments/flags/production/").status_code == 404
    assert client.post(f"/flags/{flag.pk}/edit/", {"rollout": "90"}).status_code == 404


def test_flags_page_queries_do_not_grow(client, people, prod, django_assert_max_num_queries):
    client.force_login(people.alice)
    flag_create(environment=prod, actor=people.alice, key="a")
    with django_assert_max_num_queries(25) as small:
        client.get("/projects/payments/flags/production/")
    for n in range(25):
        flag_create(environment=prod, actor=people.alice, key=f"k{n}")
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get("/projects/payments/flags/production/")


def test_release_panel_shows_step_bar_and_buttons_without_js(client, people, release, prod, flag):
    client.force_login(people.alice)
    page = client.get(f"/releases/{release.pk}/")
    assert b"No flag rollout is planned" in page.content
    answer = client.post(
        f"/releases/{release.pk}/flag-plans/new/",
        {
            "environment": "production",
            "flag": "fast-checkout",
            "percents": "10, 25, 50, 100",
            "hold": "2",
            "hold_unit": "hours",
            "auto_advance": "on",
        },
    )
    assert answer.status_code == 302
    plan = RolloutPlan.objects.get()
    assert plan.steps.count() == 4 and not plan.disable_on_fail
    client.post(f"/flag-plans/{plan.pk}/start/")
    page = client.get(f"/releases/{release.pk}/").content.decode()
    assert "step-bar" in page and "Watching" in page and "left" in page
    for label in ("Advance now", "Pause", "Skip next step", "Abort (0 %)"):
        assert label in page
    htmx = client.post(f"/flag-plans/{plan.pk}/pause/", HTTP_HX_REQUEST="true")
    assert htmx.status_code == 200 and "Resume" in htmx.content.decode()
    refused = client.post(f"/flag-plans/{plan.pk}/pause/")
    assert refused.status_code == 400 and b"cannot become" in refused.content


def test_release_page_queries_do_not_grow_with_plans(
    client, people, release, prod, django_assert_max_num_queries
):
    from flags.services import plan_abort

    client.force_login(people.alice)

    def add_plan(n):
        flag_create(environment=prod, actor=people.alice, key=f"p{n}")
        plan = plan_create(release=release, environment=prod, actor=people.alice, flag_key=f"p{n}")
        plan_abort(plan=plan, actor=people.alice)

    add_plan(0)
    client.get(f"/releases/{release.pk}/")
    with django_assert_max_num_queries(200) as small:
        client.get(f"/releases/{release.pk}/")
    for n in range(1, 8):
        add_plan(n)
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(f"/releases/{release.pk}/")


def test_release_record_lists_every_step(client, people, release, prod, flag):
    from flags.services import plan_advance, plan_start

    plan = plan_create(
        release=release, environment=prod, actor=people.alice, flag_key="fast-checkout"
    )
    plan = plan_start(plan=plan, actor=people.alice)
    plan_advance(plan=plan, actor=people.alice, reason="Clean week")
    client.force_login(people.aud)
    record = client.get(f"/audit/releases/{release.pk}/record.json").json()
    section = next(s for s in record["sections"] if s["key"] == "flags")
    steps = next(t for t in section["tables"] if t["title"] == "Steps")["rows"]
    assert [(r["percent"], r["status"]) for r in steps] == [
        (10, "Advanced by a person"),
        (25, "Watching"),
        (50, "Pending"),
        (100, "Pending"),
    ]
    trail = next(s for s in record["sections"] if s["key"] == "audit")
    actions = [row["action"] for t in trail["tables"] for row in t["rows"]]
    assert "flags.plan_started" in actions and "flags.plan_advanced" in actions


def test_monitoring_page__lists_the_watched_step_with_its_checks__until_paused(
    client, people, release, prod, flag, watched
):
    from flags.services import plan_pause, plan_start

    plan = plan_start(
        plan=plan_create(release=release, environment=prod, actor=people.alice, flag_key=flag.key),
        actor=people.alice,
    )
    client.force_login(people.bob)
    body = client.get("/monitoring/").content.decode()
    section = body[body.index("Rollout steps being watched") :]
    assert f"<code>{flag.key}</code> in {prod}" in section
    assert "Step 1 (10 %)" in section and "api health" in section
    assert f'href="/releases/{release.pk}/#flag-plan-{plan.pk}"' in section
    assert " left" in section  # the time left in the step's hold time

    client.force_login(people.olga)  # not in the project
    assert f"<code>{flag.key}</code>" not in client.get("/monitoring/").content.decode()

    plan_pause(plan=plan, actor=people.alice)
    client.force_login(people.bob)
    body = client.get("/monitoring/").content.decode()
    assert f"<code>{flag.key}</code>" not in body
    assert "No rollout step is being watched" in body


def test_monitoring_page__queries_do_not_grow_with_watched_steps(
    client, people, release, prod, watched, django_assert_max_num_queries
):
    from flags.services import plan_start

    def start(n):
        flag_create(environment=prod, actor=people.alice, key=f"w{n}")
        plan = plan_create(release=release, environment=prod, actor=people.alice, flag_key=f"w{n}")
        plan_start(plan=plan, actor=people.alice)

    client.force_login(people.alice)
    start(0)
    with django_assert_max_num_queries(40) as small:
        assert client.get("/monitoring/").status_code == 200
    for n in range(1, 6):
        start(n)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get("/monitoring/").content.decode().count("Step 1 (10 %)") == 6
