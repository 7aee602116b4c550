from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Shipcheck core"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from core.observability import connect_celery_signals
        from core.profiles import remember_time_zone

        connect_celery_signals()
        # The chosen time zone goes into the session at sign-in, so pages cost no query for it.
        user_logged_in.connect(remember_time_zone, dispatch_uid="core.remember_time_zone")
