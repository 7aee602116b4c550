"""A template version's content as plain data, and the installation of the shipped templates.

Below both the selectors and the services: ``template_default_for`` installs
the shipped templates on a fresh database, and the template services hash,
copy and publish content with the same helpers, so neither imports the other.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from audit.services import audit_record
from checklists.choices import VersionStatus
from checklists.defaults import SHIPPED_TEMPLATES
from checklists.models import ChecklistTemplate, ItemTemplate, StepTemplate, TemplateVersion

StepData = dict[str, Any]


def content_hash(steps: list[StepData]) -> str:
    """A stable fingerprint of a version's content (steps and items, in order)."""
    blob = json.dumps(steps, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def version_content(version: TemplateVersion) -> list[StepData]:
    """Steps and items of a version as plain data (used for hashing, copying and the API)."""
    steps = (
        StepTemplate.objects.filter(version=version)
        .prefetch_related("items")
        .order_by("position", "id")
    )
    return [
        {
            "title": s.title,
            "description": s.description,
            "expected_output": s.expected_output,
            "phase": s.phase,
            "items": [
                {
                    "text": i.text,
                    "required": i.required,
                    "role": i.role,
                    "evidence_required": i.evidence_required,
                }
                for i in s.items.all()
            ],
        }
        for s in steps
    ]


def content_write(version: TemplateVersion, steps: list[StepData]) -> None:
    """Write ``steps`` (as ``version_content`` returns them) into an empty ``version``."""
    created = StepTemplate.objects.bulk_create(
        [
            StepTemplate(
                version=version,
                position=index,
                title=s["title"],
                description=s.get("description", ""),
                expected_output=s.get("expected_output", ""),
                phase=s["phase"],
            )
            for index, s in enumerate(steps)
        ]
    )
    ItemTemplate.objects.bulk_create(
        [
            ItemTemplate(
                step=step,
                position=position,
                text=i["text"],
                required=i.get("required", True),
                role=i["role"],
                evidence_required=i.get("evidence_required", False),
            )
            for step, s in zip(created, steps, strict=True)
            for position, i in enumerate(s["items"])
        ]
    )


def _shipped_content(definition: dict[str, Any]) -> list[StepData]:
    return [
        {
            "title": s["title"],
            "description": s["description"],
            "expected_output": s["expected_output"],
            "phase": s["phase"],
            "items": [
                {
                    "text": text,
                    "required": not options.get("optional", False),
                    "role": role,
                    "evidence_required": bool(options.get("evidence", False)),
                }
                for text, role, options in s["items"]
            ],
        }
        for s in definition["steps"]
    ]


def shipped_templates_install() -> int:
    """Install or update the templates shipped with Shipcheck; safe to run any number of times.

    A shipped template whose content changed gets a new published version
    (releases keep the version they copied). Returns how many versions were
    published. Audit: ``checklist_template.installed`` per new version.
    """
    published = 0
    for definition in SHIPPED_TEMPLATES:
        steps = _shipped_content(definition)
        digest = content_hash(steps)
        try:
            with transaction.atomic():
                template, created = ChecklistTemplate.objects.get_or_create(
                    project=None,
                    slug=definition["slug"],
                    defaults={
                        "name": definition["name"],
                        "description": definition["description"],
                        "release_types": definition["release_types"],
                    },
                )
                if not created:
                    template = ChecklistTemplate.objects.select_for_update().get(pk=template.pk)
                latest = (
                    template.versions.filter(status=VersionStatus.PUBLISHED)
                    .order_by("-number")
                    .first()
                )
                if latest is not None and latest.content_hash == digest:
                    continue
                number = (template.versions.aggregate(m=Max("number"))["m"] or 0) + 1
                version = TemplateVersion.objects.create(
                    template=template,
                    number=number,
                    status=VersionStatus.PUBLISHED,
                    content_hash=digest,
                    change_note="Shipped with Shipcheck.",
                    published_at=timezone.now(),
                )
                content_write(version, steps)
                audit_record(
                    actor=None,
                    action="checklist_template.installed",
                    obj=template,
                    to_state=VersionStatus.PUBLISHED,
                    data={"slug": template.slug, "version": number, "steps": len(steps)},
                )
                published += 1
        except IntegrityError:
            # Another process installed the same template at the same moment; theirs stands.
            continue
    return published


def shipped_templates_ensure() -> None:
    """Install the shipped templates on a database that has none yet (one query otherwise).

    ``seed_demo`` and ``manage.py checklists_install`` install them too; this
    covers a fresh production database and tests that emptied the tables.
    """
    if not ChecklistTemplate.objects.filter(project__isnull=True).exists():
        shipped_templates_install()
