"""Refuse UPDATE, DELETE (and TRUNCATE on PostgreSQL) of audit events.

PostgreSQL: the trigger function lets a session through only when it set
``shipcheck.audit_purge = on``; the test runner's connections do, so tables
can be emptied between tests. Production connections never set it.
SQLite: the trigger asks ``shipcheck_audit_purge_allowed()``, a function that
only Shipcheck's own connections define (audit/signals.py); any other client
fails the trigger and is refused as well.
"""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION shipcheck_audit_refuse() RETURNS trigger AS $$
BEGIN
    IF coalesce(current_setting('shipcheck.audit_purge', true), 'off') = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION shipcheck_audit_refuse_row() RETURNS trigger AS $$
BEGIN
    IF coalesce(current_setting('shipcheck.audit_purge', true), 'off') = 'on' THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_event_no_update BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION shipcheck_audit_refuse_row();
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION shipcheck_audit_refuse();
"""

PG_REVERSE = """
DROP TRIGGER IF EXISTS audit_event_no_update ON audit_auditevent;
DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_auditevent;
DROP FUNCTION IF EXISTS shipcheck_audit_refuse();
DROP FUNCTION IF EXISTS shipcheck_audit_refuse_row();
"""

SQLITE_FORWARD = [
    """CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent
       WHEN shipcheck_audit_purge_allowed() = 0
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only: UPDATE refused'); END;""",
    """CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_auditevent
       WHEN shipcheck_audit_purge_allowed() = 0
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only: DELETE refused'); END;""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS audit_event_no_update;",
    "DROP TRIGGER IF EXISTS audit_event_no_delete;",
]


def forward(apps, schema_editor):
    conn = schema_editor.connection
    if conn.vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)
    elif conn.vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)


def reverse(apps, schema_editor):
    conn = schema_editor.connection
    if conn.vendor == "postgresql":
        schema_editor.execute(PG_REVERSE, params=None)
    elif conn.vendor == "sqlite":
        for statement in SQLITE_REVERSE:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(forward, reverse)]
