from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Shipcheck core"

    def ready(self):
        from core.observability import connect_celery_signals

        connect_celery_signals()
