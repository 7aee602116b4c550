from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo story at the top of the layers: it may use every app, and no app imports it."""

    name = "demo"
    verbose_name = "Demo data"
