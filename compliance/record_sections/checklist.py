"""The checklist section: every item, who ticked it with what evidence, and the step outputs."""

from __future__ import annotations

from compliance.record import RecordContext, Section, Table
from compliance.record_sections.common import app_missing, optional_model, person_name


def checklist_section(release, ctx: RecordContext) -> Section:
    Checklist = optional_model("checklists", "Checklist")
    Item = optional_model("checklists", "Item")
    if Checklist is None or Item is None:
        return app_missing("checklist", "Checklist", "checklists")
    section = Section("checklist", "Checklist")
    checklist = Checklist.objects.filter(release=release).first()
    if checklist is None:
        section.notes.append("This release has no checklist.")
        return section
    items = list(
        Item.objects.filter(checklist=checklist)
        .select_related("step", "completed_by")
        .order_by("step__position", "step_id", "position", "id")
    )
    done = sum(1 for item in items if item.status != "open")
    section.facts = [
        ("Template", f"{checklist.template_name} v{checklist.version_number}"),
        ("Items resolved", f"{done} of {len(items)}"),
    ]
    section.tables.append(
        Table(
            "Items",
            [
                ("step", "Step"),
                ("item", "Item"),
                ("role", "Owner role"),
                ("required", "Required"),
                ("status", "Status"),
                ("by", "Ticked by"),
                ("at", "When"),
                ("evidence", "Evidence"),
                ("note", "Note"),
            ],
            [
                {
                    "step": item.step.title,
                    "item": item.text,
                    "role": item.get_role_display()
                    if hasattr(item, "get_role_display")
                    else item.role,
                    "required": item.required,
                    "status": item.get_status_display(),
                    "by": person_name(item.completed_by),
                    "at": item.completed_at,
                    "evidence": item.evidence,
                    "note": item.na_reason or item.note,
                }
                for item in items
            ],
            empty="The checklist has no items.",
        )
    )
    outputs = [
        s
        for s in checklist.steps.select_related("actual_output_by").order_by("position", "id")
        if s.actual_output
    ]
    if outputs:
        section.tables.append(
            Table(
                "Recorded step outputs",
                [("step", "Step"), ("output", "Output"), ("by", "By"), ("at", "When")],
                [
                    {
                        "step": s.title,
                        "output": s.actual_output,
                        "by": person_name(s.actual_output_by),
                        "at": s.actual_output_at,
                    }
                    for s in outputs
                ],
            )
        )
    return section
