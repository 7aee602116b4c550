"""The incidents demo: the 2.2.0 SEV2 and its reviewed post-mortem, an open SEV3, 2.1.1 closed."""

from __future__ import annotations

from io import StringIO

import pytest
from django.utils import timezone

from demo.story import tell
from incidents.models import ActionItem, Incident, PostMortem, ReleaseClosure, TicketConfirmation

pytestmark = pytest.mark.django_db


def test_demo__incidents_postmortem_closing_and_idempotent(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    tell(StringIO())

    sev2 = Incident.objects.get(title="Search answers slowly after 2.2.0")
    assert sev2.severity == 2 and sev2.state == "resolved"
    assert sev2.cause_release.version == "2.2.0"
    assert sev2.cause_release.status == "rolled_back"
    assert sev2.details.hotfix_release.version == "2.2.1"
    assert sev2.updates.count() == 2
    postmortem = PostMortem.objects.get(incident=sev2)
    assert postmortem.state == "reviewed"
    overdue = ActionItem.objects.filter(
        postmortem=postmortem, done_at__isnull=True, due_on__lt=timezone.localdate()
    )
    assert overdue.count() == 1

    sev3 = Incident.objects.get(title="Coupon banner flickers on Safari")
    assert sev3.severity == 3 and sev3.state == "identified"

    closure = ReleaseClosure.objects.get(release__version="2.1.1")
    assert closure.results_sent_at is not None
    checks = TicketConfirmation.objects.filter(release=closure.release)
    assert checks.count() == closure.release.tickets.count() > 0
    assert {c.result for c in checks} == {"confirmed"}

    counts = (Incident.objects.count(), PostMortem.objects.count(), ActionItem.objects.count())
    tell(StringIO())
    assert (
        Incident.objects.count(),
        PostMortem.objects.count(),
        ActionItem.objects.count(),
    ) == counts
