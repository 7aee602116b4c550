"""What every number means, written once: the dashboard, the API and docs/metrics.md read this.

``DEFINITIONS`` holds, per metric, what counts, what does not and which timestamps are
used; ``BANDS`` holds the DORA performance clusters with the year of the report they come
from. tests/metrics/test_definitions.py checks that docs/metrics.md says the same.
"""

from __future__ import annotations

from dataclasses import dataclass

# The benchmark the bands come from (shown beside every band).
BAND_YEAR = 2024
BAND_SOURCE = "Accelerate State of DevOps Report 2024 (DORA)"


@dataclass(frozen=True)
class Definition:
    key: str
    label: str
    unit: str  # "count", "seconds", "percent", "per_release"
    value: str  # what the series' value is
    counts: str
    excludes: str
    timestamps: str
    drill: str  # the drill-down list: deployments, commits, recoveries, releases, waits
    drill_filter: str = ""  # the list's ``only=`` filter for this metric's numerator
    target: str = ""  # the seed's KPI target, if it names one
    dora: bool = False


DEFINITIONS: dict[str, Definition] = {
    d.key: d
    for d in (
        Definition(
            key="deployment_frequency",
            label="Deployment frequency",
            unit="count",
            value="Production deployments that reached the environment, per interval.",
            counts="Deployments to the chosen environments (production by default) that "
            "finished successfully, including those rolled back later: they reached "
            "production. The rate is that count divided by the days of the range.",
            excludes="Deployments that failed, are still running or never started; "
            "deployments to other environments.",
            timestamps="The deployment's finish time (finished_at).",
            drill="deployments",
            drill_filter="deployed",
            dora=True,
        ),
        Definition(
            key="lead_time_for_changes",
            label="Lead time for changes",
            unit="seconds",
            value="Median seconds from commit to production, per interval.",
            counts="Every (deployment, commit) pair: a commit attached to a release, and "
            "the first successful deployment to the chosen environments of a release "
            "holding that commit (the same sha in the same project). Median, 95th "
            "percentile and average of finish time minus commit time.",
            excludes="A commit's later deployments (a commit deployed twice counts once, "
            "at its first); commits without a commit time; pairs of zero or less "
            "(commit time at or after the deployment's finish, counted apart as "
            "'excluded'); deployments that failed.",
            timestamps="The commit's committed_at to the deployment's finished_at; the "
            "pair belongs to the interval holding the deployment's finish.",
            drill="commits",
            dora=True,
        ),
        Definition(
            key="change_failure_rate",
            label="Change fail rate",
            unit="percent",
            value="Failed production deployments over production deployments, per interval.",
            counts="Deployments that finished in the chosen environments (succeeded, failed "
            "or rolled back). A deployment is a failure when it failed (including a failed "
            "monitoring verdict), was rolled back, is named as the cause of an incident "
            "(or its release is, for incidents in that environment or none), or the next "
            "deployment in its environment is of another release that is an incident's "
            "linked hotfix, a hotfix or an emergency release (hotfix and emergency releases "
            "stand in for incidents not recorded in Shipcheck). Each "
            "deployment counts once however many of these apply, so the rate never "
            "exceeds 100 %.",
            excludes="Running deployments; deployments that never started.",
            timestamps="The deployment's finish time (finished_at).",
            drill="deployments",
            drill_filter="failure",
            target="under 15 %",
            dora=True,
        ),
        Definition(
            key="failed_deployment_recovery_time",
            label="Failed deployment recovery time",
            unit="seconds",
            value="Median seconds to restore service, per interval.",
            counts="Resolved incidents in the chosen environments, from the earlier of the "
            "incident's start and its cause deployment's finish, to its resolution; and "
            "failed or rolled-back deployments that caused no incident, from their finish "
            "to the earlier of their rollback (the audit trail's deployment.rolled_back) "
            "and the next successful deployment in that environment. Median, 95th "
            "percentile and average.",
            excludes="Failures not restored by the end of the range (shown as 'still "
            "open'); incidents of other environments.",
            timestamps="A recovery belongs to the interval holding its restoring event; a "
            "failure that began before the range and was restored inside it counts whole.",
            drill="recoveries",
            target="under 1 hour",
            dora=True,
        ),
        Definition(
            key="deployment_rework_rate",
            label="Deployment rework rate",
            unit="percent",
            value="Unplanned production deployments over production deployments, per interval.",
            counts="Finished production deployments made because of an incident: of a "
            "release linked as an incident's hotfix, of emergency releases, and of hotfix "
            "releases when the project's setting 'a hotfix counts as rework' is on (it is "
            "by default). Emergency and hotfix releases stand in for incidents not "
            "recorded in Shipcheck.",
            excludes="Planned releases of every other type; running deployments.",
            timestamps="The deployment's finish time (finished_at).",
            drill="deployments",
            drill_filter="rework",
            dora=True,
        ),
        Definition(
            key="deployment_duration",
            label="Deployment duration",
            unit="seconds",
            value="Median seconds from a deployment's start to its finish, per interval.",
            counts="Finished production deployments with a start time: median, 95th "
            "percentile and average of finished_at minus started_at.",
            excludes="Running deployments; deployments without a start time.",
            timestamps="started_at to finished_at; the interval holds the finish.",
            drill="deployments",
            drill_filter="all",
        ),
        Definition(
            key="deployment_success_rate",
            label="Deployment success rate",
            unit="percent",
            value="Production deployments whose status is still 'succeeded', over all "
            "finished ones, per interval.",
            counts="Finished production deployments that succeeded and were neither failed "
            "by monitoring nor rolled back.",
            excludes="Running deployments.",
            timestamps="The deployment's finish time (finished_at).",
            drill="deployments",
            drill_filter="succeeded",
            target="over 95 %",
        ),
        Definition(
            key="rollback_rate",
            label="Rollback rate",
            unit="percent",
            value="Rolled-back production deployments over finished ones, per interval.",
            counts="Finished production deployments whose status is 'rolled back'.",
            excludes="Running deployments; rollbacks in other environments.",
            timestamps="The deployment's finish time (finished_at).",
            drill="deployments",
            drill_filter="rolled_back",
            target="under 5 %",
        ),
        Definition(
            key="bug_escape_rate",
            label="Bug escape rate",
            unit="per_release",
            value="Escaped defects per release shipped, per interval, by severity.",
            counts="Releases whose first successful deployment to the chosen environments "
            "finished in the interval, and the escaped defects recorded against them "
            "(tickets reopened after the release reached production), by severity.",
            excludes="Releases that never reached the environments; defects of releases "
            "shipped outside the range.",
            timestamps="The release's first successful production finish (a defect found "
            "later still counts for that release's interval).",
            drill="releases",
        ),
        Definition(
            key="gate_wait_time",
            label="Time waiting at each gate",
            unit="seconds",
            value="Median seconds a release waited before being promoted, per interval.",
            counts="For each release and each environment it was promoted to after the "
            "first: from its latest successful deployment to an earlier environment to "
            "the start of its first deployment in this one (the time its gates, approvals "
            "and people held it). Shown per environment.",
            excludes="The first environment (nothing comes before it); promotions with no "
            "earlier successful deployment.",
            timestamps="The earlier finish to the later start; the interval holds the start.",
            drill="waits",
        ),
    )
}

METRIC_KEYS = tuple(DEFINITIONS)


@dataclass(frozen=True)
class Band:
    name: str  # elite, high, medium, low
    text: str


# DORA's 2024 clusters, per metric (the figures the report gives for each cluster).
BANDS: dict[str, tuple[Band, ...]] = {
    "deployment_frequency": (
        Band("elite", "on demand (several deployments a day)"),
        Band("high", "between once a day and once a week"),
        Band("medium", "between once a week and once a month"),
        Band("low", "between once a month and once every six months"),
    ),
    "lead_time_for_changes": (
        Band("elite", "under a day"),
        Band("high", "between a day and a week"),
        Band("medium", "between a week and a month"),
        Band("low", "between one and six months"),
    ),
    "change_failure_rate": (
        Band("elite", "5 %"),
        Band("medium", "10 %"),
        Band("high", "20 %"),
        Band("low", "40 %"),
    ),
    "failed_deployment_recovery_time": (
        Band("elite", "under an hour"),
        Band("high", "under a day"),
        Band("low", "between a week and a month"),
    ),
}

BAND_RULES = {
    "deployment_frequency": "From the median, over the range's weeks, of the days with a "
    "deployment: 3 or more is elite (deploying most days, on demand), 1 or more high, "
    "at least one deployment every 30 days medium, fewer low.",
    "lead_time_for_changes": "From the median lead time: under a day elite, under a week "
    "high, under 30 days medium, longer low.",
    "change_failure_rate": "The report's clusters are not ordered by this figure (high's "
    "20 % is above medium's 10 %), so the band is the cluster whose figure is nearest: "
    "under 7.5 % elite, under 15 % medium, under 30 % high, else low.",
    "failed_deployment_recovery_time": "From the median recovery time: under an hour elite, "
    "under a day high (the report's medium cluster shares 'under a day'), longer low.",
}


def band_for(key: str, value: float | None) -> Band | None:
    """The 2024 cluster a summary value falls in (see BAND_RULES), or None without data."""
    if value is None or key not in BANDS:
        return None
    bands = {b.name: b for b in BANDS[key]}
    hour, day = 3600.0, 86400.0
    if key == "deployment_frequency":  # value: median deploy days per week (or < 0: monthly)
        name = "elite" if value >= 3 else "high" if value >= 1 else "medium" if value > 0 else "low"
    elif key == "lead_time_for_changes":
        name = (
            "elite"
            if value < day
            else "high"
            if value < 7 * day
            else "medium"
            if value < 30 * day
            else "low"
        )
    elif key == "change_failure_rate":
        name = (
            "elite" if value < 7.5 else "medium" if value < 15 else "high" if value < 30 else "low"
        )
    else:
        name = "elite" if value < hour else "high" if value < day else "low"
    return bands[name]
