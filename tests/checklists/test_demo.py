"""The demo shows checklists at every stage, and seeding twice adds nothing."""

from __future__ import annotations

from audit.models import AuditEvent
from checklists.models import Item
from demo import checklists as checklists_demo
from demo import releases as releases_demo
from releases.gates import gate_evaluate


def _open_required(release) -> int:
    return Item.objects.filter(checklist__release=release, status="open", required=True).count()


def test_demo_seed__stages_of_completion__and_idempotent(db):
    ctx = releases_demo.foundation()
    releases_demo.seed(ctx)
    checklists_demo.seed(ctx)
    events = AuditEvent.objects.count()
    r = ctx.releases
    assert _open_required(r["2.1.0"]) == 0 and _open_required(r["2.2.1"]) == 0
    assert r["2.2.1"].checklist.template_name == "Hotfix (emergency path)"
    assert (
        _open_required(r["2.5.0"])
        == Item.objects.filter(checklist__release=r["2.5.0"], required=True).count()
    )
    production = r["2.3.0"].project.environments.get(name="production")
    gate = next(
        g
        for g in gate_evaluate(release=r["2.3.0"], environment=production).gates
        if g.code == "checklist"
    )
    assert gate.state == "closed" and "'Get ready for production' is missing" in gate.reason
    staging = r["2.4.0"].project.environments.get(name="staging")
    gate = next(
        g
        for g in gate_evaluate(release=r["2.4.0"], environment=staging).gates
        if g.code == "checklist"
    )
    assert "CI pipeline green on the release candidate" in gate.reason
    assert Item.objects.filter(checklist__release=r["2.4.0"], is_adhoc=True).count() == 1
    assert Item.objects.filter(checklist__release=r["2.3.0"], status="not_applicable").count() == 1

    checklists_demo.seed(ctx)
    assert AuditEvent.objects.count() == events
