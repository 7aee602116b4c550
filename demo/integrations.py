"""Demo data: CI tokens for Storefront and the test results its pipeline uploaded.

Idempotent: a token that exists by name is left alone; a release that already
has test runs gets none added. The secret of the demo pipeline token is
printed once, when it is created, so the ``shipcheck`` command can be tried
against ``make run`` right away.
"""

from __future__ import annotations

from demo.releases import DemoContext
from integrations.services import test_run_record
from projects.choices import TokenScope
from projects.models import ApiToken
from projects.principals import TokenPrincipal
from projects.services import api_token_create, api_token_revoke
from releases.models import Release, TestRun

PIPELINE_TOKEN_NAME = "GitHub Actions: storefront deploy"  # noqa: S105 - a label, not a secret
OLD_TOKEN_NAME = "Jenkins (replaced by GitHub Actions)"  # noqa: S105 - a label, not a secret

# version → (environment, total, failing test names, skipped, coverage)
TEST_RESULTS = {
    "2.1.0": ("staging", 412, [], 3, 84.2),
    "2.1.1": ("staging", 415, [], 3, 84.5),
    "2.2.0": ("staging", 431, [], 4, 85.0),
    "2.2.1": ("staging", 433, [], 4, 85.1),
    "2.3.0": ("staging", 440, [], 2, 86.3),
    "2.3.1": ("staging", 441, ["checkout.tests.test_tax.TaxTest.test_vat_rounding"], 2, 86.0),
    "2.4.0": (
        "dev",
        452,
        [
            "cart.tests.test_saved.SavedCartTest.test_merge_after_login",
            "cart.tests.test_saved.SavedCartTest.test_expired_items",
        ],
        5,
        87.4,
    ),
}


def junit_report(total: int, failing: list[str], skipped: int) -> str:
    cases = []
    for number in range(total):
        if number < len(failing):
            classname, _, name = failing[number].rpartition(".")
            cases.append(
                f'<testcase classname="{classname}" name="{name}" time="0.21">'
                '<failure message="assertion failed">AssertionError</failure></testcase>'
            )
        elif number < len(failing) + skipped:
            cases.append(
                f'<testcase classname="storefront.tests" name="test_skipped_{number}" time="0">'
                "<skipped/></testcase>"
            )
        else:
            cases.append(
                f'<testcase classname="storefront.tests" name="test_{number}" time="0.05"/>'
            )
    return f'<testsuite name="storefront" tests="{total}">{"".join(cases)}</testsuite>'


def seed(ctx: DemoContext) -> None:
    admin = ctx.people["adele"]
    token = ApiToken.objects.filter(project=ctx.project, name=PIPELINE_TOKEN_NAME).first()
    if token is None:
        token, plain = api_token_create(
            project=ctx.project, name=PIPELINE_TOKEN_NAME, scopes=TokenScope.values, actor=admin
        )
        if ctx.stdout is not None:
            ctx.stdout.write(f"CI: demo pipeline token (shown once): {plain}")
    if not ApiToken.objects.filter(project=ctx.project, name=OLD_TOKEN_NAME).exists():
        old, _ = api_token_create(
            project=ctx.project,
            name=OLD_TOKEN_NAME,
            scopes=[TokenScope.READ, TokenScope.DEPLOYMENTS],
            actor=admin,
        )
        api_token_revoke(token=old, actor=admin)

    pipeline = TokenPrincipal(token)
    recorded = 0
    for version, (environment_name, total, failing, skipped, coverage) in TEST_RESULTS.items():
        release = (
            ctx.releases.get(version)
            or Release.objects.filter(project=ctx.project, version=version).first()
        )
        if release is None or TestRun.objects.filter(release=release).exists():
            continue
        environment = release.project.environments.filter(name=environment_name).first()
        test_run_record(
            release=release,
            actor=pipeline,
            junit_xml=junit_report(total, failing, skipped),
            name="unit",
            environment=environment,
            coverage_percent=coverage,
        )
        recorded += 1
    if ctx.stdout is not None:
        ctx.stdout.write(f"CI: {recorded} test runs recorded by the demo pipeline.")
