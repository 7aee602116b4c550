"""The golden history: every metric against figures worked out by hand.

Built through the services (release_create, release_commits_add, release_promote,
deployment_finish, deployment_rollback, incident_open, incident_resolve,
escaped_defect_record); deployment times are then moved to known instants by updating the
rows (tests/metrics/conftest.py says how). Every release goes dev (3 h before its
production start, 5 min), staging (2 h before, 10 min), production. All times UTC.

Production deployments (Dn), their releases and commits:

    D1  1.0.0 minor      03-02 12:00 +10 min  succeeded  c1 08:00, c2 09:00
    D2  1.1.0 minor      03-03 13:00 +20 min  succeeded  c3 10:00, c4 13:20 (= finish: 0 s),
                                                         c5 without a commit time
    D3  1.1.1 hotfix     03-03 15:40 +10 min  succeeded  c6 15:30
    D4  1.2.0 minor      03-05 10:00 +30 min  rolled back (at the test's real time)
                                                         c7 03-04 09:00, c1 again (deployed by D1)
    D5  1.2.1 patch      03-08 23:00 +15 min  succeeded  c7 again, c8 03-08 22:00
                         (00:15 on 03-09 in Berlin: the time zone case)
    D6  1.3.0 minor      03-09 10:00 +5 min   failed     no commits
    D7  1.3.0 again      03-09 11:00 +10 min  succeeded  no commits
    D8  1.3.1 emergency  03-10 14:00 +5 min   succeeded  c9 13:00

Incidents: I1 SEV2 caused by D2, started 03-03 15:00, resolved 16:00; I3 started 03-01
20:00 (before the range), resolved 03-02 01:00; I2 started 03-15 22:00, resolved 03-16
02:00 (the range 03-02..03-15 cuts it in half). Escaped defects: two against 1.0.0 (SEV2,
SEV3), one against 1.1.0 (SEV1).

Range 03-02..03-15 (UTC), by hand:

* Frequency: D1 D2 D3 D4 D5 D7 D8 reached production = 7, 7 / 14 days = 0.5 a day. Deploy
  days per week: week of 03-02 {02, 03, 05, 08} = 4, of 03-09 {09, 10} = 2 (D6 failed);
  median 3 -> elite.
* Lead time pairs (seconds): c1 D1 15000, c2 D1 11400, c3 D2 12000, c6 D3 1200,
  c7 D4 91800 (its first; not again at D5), c8 D5 4500, c9 D8 3900. c4 is 0 s: excluded (1);
  c5 has no time; c1 in 1.2.0 counts once (at D1). Sorted 1200 3900 4500 11400 12000 15000
  91800: median 11400, average 139800 / 7 = 19971.429, p95 at 0.95 x 6 = 5.7:
  15000 + 0.7 x 76800 = 68760. Elite (under a day).
* Change fail rate: 8 finished (D1..D8). Failures: D2 (caused I1, and a hotfix came next:
  counted once), D4 (rolled back), D6 (failed), D7 (the next is the emergency 1.3.1) = 4 ->
  50 % (low). D6 -> D7 is the same release: not a hotfix follow-up.
* Recovery (seconds): I1 from D2's finish 13:20 (earlier than its start 15:00) to 16:00 =
  9600; D4 from 03-05 10:30 to D5's finish 03-08 23:15 = 305100 (its rollback was recorded
  at the real clock, later); D6 from 10:05 to D7's 11:10 = 3900; I3 18000 (began before the
  range, restored inside: counts whole). I2 still open. D2 caused I1: not counted twice.
  Sorted 3900 9600 18000 305100: median 13800, average 84150, p95 at 2.85:
  18000 + 0.85 x 287100 = 262035. High (under a day).
* Rework: D3 (hotfix, and linked as I1's hotfix), D8 (emergency) = 2 / 8 = 25 %; with the
  project's "hotfix counts as rework" off, still 25 % (D3 is I1's linked hotfix); with the
  setting off and no link, D8 only = 12.5 %.
* Duration: 600 1200 600 1800 900 300 600 300: median 600, average 787.5, p95 at 6.65:
  1200 + 0.65 x 600 = 1590.
* Success rate 6 / 8 = 75 %; rollback rate 1 / 8 = 12.5 %.
* Bug escape: releases first shipped in range 1.0.0 1.1.0 1.1.1 1.2.0 1.2.1 1.3.0 1.3.1 = 7,
  3 defects: 0.429 a release (SEV1 1, SEV2 1, SEV3 1).
* Waits: each release waits 55 min before staging (dev done 2 h 55 min before production
  start, staging starts 2 h before) and 110 min before production: 7 x 3300 and 7 x 6600,
  median 4950; staging 3300, production 6600.

Weekly (UTC): frequency 5, 2; change fail rate 2 / 5 = 40 %, 2 / 3 = 66.67 %; lead time
median of week 1 (1200 4500 11400 12000 15000 91800) = 11700, week 2 3900.
In Europe/Berlin D5 and c8 move to the week of 03-09: frequency 4, 3.
Range 03-02..03-16: I2 counts (4 h = 14400), nothing is still open.
"""

from __future__ import annotations

import pytest

from incidents.models import IncidentDetails
from incidents.services import (
    escaped_defect_record,
    hotfix_link,
    incident_open,
    incident_resolve,
)
from metrics.computations import metrics_compute
from metrics.drill import drill_page
from metrics.scope import scope_parse
from metrics.services import metrics_settings_update
from tests.metrics.conftest import at

C = {f"c{i}": f"{i:x}" * 12 for i in range(1, 10)}


@pytest.fixture
def golden(history, people, envs, project):
    h = history
    r1 = h.release(
        "1.0.0", commits=[(C["c1"], at("2026-03-02 08:00")), (C["c2"], at("2026-03-02 09:00"))]
    )
    d1 = h.ship(r1, at("2026-03-02 12:00"), 10)
    r2 = h.release(
        "1.1.0",
        commits=[
            (C["c3"], at("2026-03-03 10:00")),
            (C["c4"], at("2026-03-03 13:20")),
            (C["c5"], None),
        ],
    )
    d2 = h.ship(r2, at("2026-03-03 13:00"), 20)
    r3 = h.release("1.1.1", type="hotfix", commits=[(C["c6"], at("2026-03-03 15:30"))])
    d3 = h.ship(r3, at("2026-03-03 15:40"), 10)
    r4 = h.release(
        "1.2.0", commits=[(C["c7"], at("2026-03-04 09:00")), (C["c1"], at("2026-03-02 08:00"))]
    )
    d4 = h.ship(r4, at("2026-03-05 10:00"), 30)
    h.rollback(d4)
    r5 = h.release(
        "1.2.1",
        type="patch",
        commits=[(C["c7"], at("2026-03-04 09:00")), (C["c8"], at("2026-03-08 22:00"))],
    )
    d5 = h.ship(r5, at("2026-03-08 23:00"), 15)
    r6 = h.release("1.3.0")
    d6 = h.ship(r6, at("2026-03-09 10:00"), 5, ok=False)
    d7 = h.ship(r6, at("2026-03-09 11:00"), 10, redeploy=True)
    r7 = h.release(
        "1.3.1", type="patch", emergency=True, commits=[(C["c9"], at("2026-03-10 13:00"))]
    )
    d8 = h.ship(r7, at("2026-03-10 14:00"), 5)

    prod = envs["production"]
    i1 = incident_open(
        actor=people.alice,
        project=project,
        title="Checkout errors",
        severity=2,
        started_at=at("2026-03-03 15:00"),
        environment=prod,
        cause_deployment=d2,
    )
    hotfix_link(actor=people.alice, incident=i1, release=r3)
    incident_resolve(actor=people.alice, incident=i1, resolved_at=at("2026-03-03 16:00"))
    i3 = incident_open(
        actor=people.alice,
        project=project,
        title="Slow search",
        severity=3,
        started_at=at("2026-03-01 20:00"),
        environment=prod,
        propose_cause=False,
    )
    incident_resolve(actor=people.alice, incident=i3, resolved_at=at("2026-03-02 01:00"))
    i2 = incident_open(
        actor=people.alice,
        project=project,
        title="Queue backlog",
        severity=3,
        started_at=at("2026-03-15 22:00"),
        environment=prod,
        propose_cause=False,
    )
    incident_resolve(actor=people.alice, incident=i2, resolved_at=at("2026-03-16 02:00"))
    for release, key, severity in ((r1, "PAY-1", 2), (r1, "PAY-2", 3), (r2, "PAY-3", 1)):
        escaped_defect_record(
            actor=people.quinn,
            release=release,
            key=key,
            severity=severity,
            found_at=at("2026-03-12 09:00"),
        )
    return {"d": [None, d1, d2, d3, d4, d5, d6, d7, d8], "i": [None, i1, i2, i3]}


def compute(user, interval="all", **params):
    scope = scope_parse(
        user, {"from": "2026-03-02", "to": "2026-03-15", "interval": interval, **params}
    )
    return scope, metrics_compute(scope)


def test_every_metric_matches_the_hand_figures(golden, people):
    _scope, m = compute(people.alice)
    freq = m["deployment_frequency"]
    assert freq.summary["count"] == 7
    assert freq.summary["per_day"] == 0.5
    assert freq.summary["median_deploy_days_per_week"] == 3
    assert freq.band.name == "elite"

    lead = m["lead_time_for_changes"].summary
    assert lead["pairs"] == 7 and lead["excluded"] == 1
    assert lead["median"] == 11400
    assert lead["average"] == pytest.approx(19971.429, abs=0.01)
    assert lead["p95"] == pytest.approx(68760, abs=0.01)
    assert m["lead_time_for_changes"].band.name == "elite"

    cfr = m["change_failure_rate"]
    assert (cfr.summary["failures"], cfr.summary["deployments"], cfr.value) == (4, 8, 50.0)
    assert cfr.band.name == "low"

    rec = m["failed_deployment_recovery_time"].summary
    assert rec["recoveries"] == 4 and rec["still_open"] == 1
    assert rec["median"] == pytest.approx(13800, abs=0.01)
    assert rec["average"] == pytest.approx(84150, abs=0.01)
    assert rec["p95"] == pytest.approx(262035, abs=0.01)
    assert m["failed_deployment_recovery_time"].band.name == "high"

    assert m["deployment_rework_rate"].value == 25.0
    dur = m["deployment_duration"].summary
    assert (dur["median"], dur["average"]) == (600, 787.5)
    assert dur["p95"] == pytest.approx(1590, abs=0.01)
    assert m["deployment_success_rate"].value == 75.0
    assert m["rollback_rate"].value == 12.5

    esc = m["bug_escape_rate"].summary
    assert (esc["releases"], esc["defects"], esc["per_release"]) == (7, 3, 0.429)
    assert esc["by_severity"] == {"sev1": 1, "sev2": 1, "sev3": 1, "sev4": 0}

    waits = m["gate_wait_time"]
    assert waits.summary["waits"] == 14 and waits.summary["median"] == 4950
    by_env = {w["environment"]: (w["median"], w["waits"]) for w in waits.extra["by_environment"]}
    assert by_env == {"staging": (3300, 7), "production": (6600, 7)}


def test_weekly_series(golden, people):
    _scope, m = compute(people.alice, interval="weekly")
    assert [p.bucket.label for p in m["deployment_frequency"].series] == [
        "2026-03-02",
        "2026-03-09",
    ]
    assert [p.value for p in m["deployment_frequency"].series] == [5, 2]
    assert [p.value for p in m["change_failure_rate"].series] == [40.0, 66.67]
    assert [p.value for p in m["lead_time_for_changes"].series] == [11700, 3900]


def test_time_zone_moves_a_late_deployment_into_the_next_week(golden, people, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    _scope, m = compute(people.alice, interval="weekly")
    assert [p.value for p in m["deployment_frequency"].series] == [4, 3]


def test_a_range_that_ends_after_the_incident_counts_it(golden, people):
    scope = scope_parse(people.alice, {"from": "2026-03-02", "to": "2026-03-16", "interval": "all"})
    rec = metrics_compute(scope, ["failed_deployment_recovery_time"])[
        "failed_deployment_recovery_time"
    ]
    assert rec.summary["recoveries"] == 5 and rec.summary["still_open"] == 0


def test_hotfix_as_rework_is_a_project_setting(golden, people, project):
    metrics_settings_update(project=project, actor=people.adam, hotfix_is_rework=False)
    _scope, m = compute(people.alice)
    assert m["deployment_rework_rate"].value == 25.0  # 1.1.1 is I1's linked hotfix
    IncidentDetails.objects.update(hotfix_release=None)  # as if never linked
    _scope, m = compute(people.alice)
    assert m["deployment_rework_rate"].value == 12.5


def test_drill_down_lists_hold_exactly_the_counted_rows(golden, people):
    d = golden["d"]
    scope = scope_parse(people.alice, {"from": "2026-03-02", "to": "2026-03-15"})
    failures, total = drill_page("deployments", scope, "failure")
    assert total == 4
    assert {r["deployment_id"] for r in failures} == {d[2].pk, d[4].pk, d[6].pk, d[7].pk}
    d2 = next(r for r in failures if r["deployment_id"] == d[2].pk)
    assert d2["failure_reasons"] == "caused an incident; followed by a hotfix"
    commits, total = drill_page("commits", scope, "counted")
    assert total == 7
    c7 = next(r for r in commits if r["sha"] == C["c7"])
    assert (c7["deployment_id"], c7["version"], c7["lead_seconds"]) == (d[4].pk, "1.2.0", 91800)
    excluded, total = drill_page("commits", scope, "excluded")
    assert [r["sha"] for r in excluded] == [C["c4"]]
    recoveries, total = drill_page("recoveries", scope, "restored")
    assert total == 4
    still_open, total = drill_page("recoveries", scope, "open")
    assert [(r["kind"], r["ref"]) for r in still_open] == [("incident", golden["i"][2].pk)]
    deployed, total = drill_page("deployments", scope, "deployed")
    assert total == 7
    releases, total = drill_page("releases", scope, "defects")
    assert [r["version"] for r in releases] == ["1.1.0", "1.0.0"]
