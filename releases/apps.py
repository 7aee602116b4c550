from django.apps import AppConfig


class ReleasesConfig(AppConfig):
    name = "releases"
    verbose_name = "Releases and deployments"

    def ready(self) -> None:
        from releases import gates  # noqa: F401 - registers the core promotion gates
