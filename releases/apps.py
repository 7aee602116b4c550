from django.apps import AppConfig


class ReleasesConfig(AppConfig):
    name = "releases"
    verbose_name = "Releases and deployments"

    def ready(self) -> None:
        from core.nav import nav_item
        from releases import (
            gates,  # noqa: F401 - registers the core promotion gates
            urgent,  # noqa: F401 - registers the failed-deployment banner
        )

        nav_item("Dashboard", "dashboard", order=10)
        nav_item("Releases", "releases:list", order=20)
