"""The SQLite side of the append-only guard.

SQLite triggers cannot read session variables, so the trigger calls a SQL
function that this module registers on every connection Django opens. A
connection without it (the sqlite3 shell, another program) fails the
trigger and so is refused too. Tests flip ``PURGE_ALLOWED`` to empty tables.
"""

from django.db.backends.signals import connection_created
from django.dispatch import receiver

PURGE_ALLOWED = {"value": False}


@receiver(connection_created)
def _register_guard(sender, connection, **kwargs):
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            "shipcheck_audit_purge_allowed",
            0,
            lambda: 1 if PURGE_ALLOWED["value"] else 0,
            deterministic=False,
        )
