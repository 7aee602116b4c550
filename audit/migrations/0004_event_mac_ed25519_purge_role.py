"""Event MACs, Ed25519 checkpoint signatures, and a purge path an ordinary role cannot open.

* ``AuditEvent.mac``: HMAC-SHA256 under a key derived from the application's
  signing key (docs/audit.md, "Event MACs"). Events written before this
  migration are MACed here, as they stand at the upgrade: from then on a row
  changed or added without the key is named by both verifiers. (What happened
  to them before the upgrade is covered, as before, by the chain and the
  HMAC checkpoints taken then.)
* ``AuditCheckpoint.public_key_id`` / ``ed25519_signature``: format 2
  statements, signed with Ed25519 as well as HMAC.
* PostgreSQL: the append-only triggers let a session through only when it set
  ``shipcheck.audit_purge = on`` AND its current role is a member of the
  ``shipcheck_audit_purger`` role (``pg_has_role``). Any role can set a custom
  setting; only a role with ADMIN on ``shipcheck_audit_purger`` (or a
  superuser) can grant membership. The role is created here when the
  migrating role may create roles; otherwise the purge path stays closed until
  a superuser creates it (docs/audit.md).
"""

from django.conf import settings
from django.db import migrations, models

PURGE_ROLE = "shipcheck_audit_purger"

PG_FORWARD = f"""
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = '{PURGE_ROLE}') THEN
        CREATE ROLE {PURGE_ROLE} NOLOGIN;
    END IF;
EXCEPTION WHEN insufficient_privilege OR duplicate_object OR unique_violation THEN
    RAISE NOTICE 'role {PURGE_ROLE} not created here (docs/audit.md, The purge path)';
END
$$;

CREATE OR REPLACE FUNCTION shipcheck_audit_refuse() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    IF coalesce(pg_catalog.current_setting('shipcheck.audit_purge', true), 'off') = 'on'
       AND EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = '{PURGE_ROLE}')
    THEN
        IF pg_catalog.pg_has_role(current_user, '{PURGE_ROLE}', 'MEMBER') THEN
            RETURN NULL;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE OR REPLACE FUNCTION shipcheck_audit_refuse_row() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    IF coalesce(pg_catalog.current_setting('shipcheck.audit_purge', true), 'off') = 'on'
       AND EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = '{PURGE_ROLE}')
    THEN
        IF pg_catalog.pg_has_role(current_user, '{PURGE_ROLE}', 'MEMBER') THEN
            IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""

# The functions as migration 0002 made them (the role is left: it is shared by the server's databases).
PG_REVERSE = """
CREATE OR REPLACE FUNCTION shipcheck_audit_refuse() RETURNS trigger AS $$
BEGIN
    IF coalesce(current_setting('shipcheck.audit_purge', true), 'off') = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql RESET search_path;

CREATE OR REPLACE FUNCTION shipcheck_audit_refuse_row() RETURNS trigger AS $$
BEGIN
    IF coalesce(current_setting('shipcheck.audit_purge', true), 'off') = 'on' THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql RESET search_path;
"""

SQLITE_TRIGGERS = [
    """CREATE TRIGGER IF NOT EXISTS audit_event_no_update BEFORE UPDATE ON audit_auditevent
       WHEN shipcheck_audit_purge_allowed() = 0
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only: UPDATE refused'); END;""",
    """CREATE TRIGGER IF NOT EXISTS audit_event_no_delete BEFORE DELETE ON audit_auditevent
       WHEN shipcheck_audit_purge_allowed() = 0
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only: DELETE refused'); END;""",
    """CREATE TRIGGER IF NOT EXISTS audit_checkpoint_no_update BEFORE UPDATE ON audit_auditcheckpoint
       WHEN shipcheck_audit_purge_allowed() = 0
       BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only: UPDATE refused'); END;""",
    """CREATE TRIGGER IF NOT EXISTS audit_checkpoint_no_delete BEFORE DELETE ON audit_auditcheckpoint
       WHEN shipcheck_audit_purge_allowed() = 0
       BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only: DELETE refused'); END;""",
]


def mac_existing_events(apps, schema_editor):
    """Give every event written before this migration its MAC and canonical data text (hashed fields untouched)."""
    from audit.chain import canonical_json, event_mac, event_mac_key

    AuditEvent = apps.get_model("audit", "AuditEvent")
    conn = schema_editor.connection
    pending = AuditEvent.objects.using(conn.alias).filter(mac="")
    if not pending.exists():
        return
    key = event_mac_key(settings.SHIPCHECK_AUDIT_SIGNING_KEY.encode("utf-8"))
    from audit.signals import PURGE_ALLOWED

    previous_flag = PURGE_ALLOWED["value"]
    PURGE_ALLOWED["value"] = True
    if conn.vendor == "postgresql":
        # The migrating role owns the table; the triggers are off for this transaction only.
        schema_editor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_update")
    try:
        batch = []
        for event in (
            pending.order_by("seq").only("pk", "hash", "project_hash", "data").iterator(2000)
        ):
            event.mac = event_mac(key, event.hash, event.project_hash)
            event.data_text = canonical_json(event.data)
            batch.append(event)
            if len(batch) >= 1000:
                AuditEvent.objects.using(conn.alias).bulk_update(batch, ["mac", "data_text"])
                batch = []
        if batch:
            AuditEvent.objects.using(conn.alias).bulk_update(batch, ["mac", "data_text"])
    finally:
        PURGE_ALLOWED["value"] = previous_flag
        if conn.vendor == "postgresql":
            schema_editor.execute(
                "ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_no_update"
            )


def triggers_forward(apps, schema_editor):
    conn = schema_editor.connection
    if conn.vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)
    elif conn.vendor == "sqlite":
        for statement in SQLITE_TRIGGERS:
            schema_editor.execute(statement)


def triggers_reverse(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_REVERSE, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_project_chain_and_checkpoints")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="mac",
            field=models.CharField(blank=True, db_default="", max_length=64),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="data_text",
            field=models.TextField(blank=True, db_default="", default=""),
        ),
        migrations.AddField(
            model_name="auditcheckpoint",
            name="public_key_id",
            field=models.CharField(blank=True, max_length=16),
        ),
        migrations.AddField(
            model_name="auditcheckpoint",
            name="ed25519_signature",
            field=models.CharField(blank=True, max_length=128),
        ),
        migrations.RunPython(triggers_forward, triggers_reverse),
        migrations.RunPython(mac_existing_events, migrations.RunPython.noop),
    ]
