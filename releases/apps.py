from django.apps import AppConfig


class ReleasesConfig(AppConfig):
    name = "releases"
    verbose_name = "Releases and deployments"

    def ready(self) -> None:
        from core.nav import nav_item
        from releases import (
            gates,  # noqa: F401 - registers the core promotion gates
            project_page,  # noqa: F401 - the project page's releases and the retire check
            urgent,  # noqa: F401 - registers the failed-deployment banner
        )

        nav_item("Dashboard", "dashboard", order=10)
        nav_item("Releases", "releases:list", order=20)
