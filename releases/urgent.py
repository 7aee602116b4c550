"""The releases app's own urgent items: a deployment that failed and was not rolled back."""

from __future__ import annotations

from django.db.models import Max
from django.urls import reverse

from projects.permissions import can_deploy
from releases.choices import DeploymentStatus, ReleaseStatus
from releases.models import Deployment
from releases.registry import Urgent, UrgentAction, urgent_source


@urgent_source(order=100)
def failed_deployments(*, user, releases) -> list[Urgent]:
    """The newest deployment of a release in an environment failed: roll back or redeploy.

    Two queries for any number of releases.
    """
    by_id = {r.pk: r for r in releases if r.status != ReleaseStatus.CANCELLED}
    newest = (
        Deployment.objects.filter(release_id__in=list(by_id))
        .order_by()
        .values("release_id", "environment_id")
        .annotate(last=Max("id"))
        .values("last")
    )
    items = []
    for deployment in (
        Deployment.objects.filter(pk__in=newest, status=DeploymentStatus.FAILED)
        .select_related("environment")
        .order_by("-id")
    ):
        release = by_id[deployment.release_id]
        env = deployment.environment
        actions = []
        if can_deploy(user, release):
            actions.append(
                UrgentAction(
                    f"Roll back {env}",
                    reverse("releases:deployment-rollback", args=[release.pk, deployment.pk]),
                    method="post",
                    style="danger",
                    ask_reason=f"Why roll back {env}?",
                )
            )
        actions.append(UrgentAction("See the pipeline", release.get_absolute_url() + "#pipeline"))
        items.append(
            Urgent(
                release=release,
                title=f"The deployment of {release.version} to {env} failed.",
                detail=deployment.notes
                or "Roll it back, or fix the cause and promote the release again.",
                actions=tuple(actions),
                deployment_id=deployment.pk,
            )
        )
    return items
