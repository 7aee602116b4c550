from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        # signals: the SQLite guard function; tasks: the periodic checkpoint with beat.
        from audit import signals, tasks  # noqa: F401
