from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = "Projects, people and environments"

    def ready(self) -> None:
        from core.nav import nav_item

        nav_item("Projects", "projects:list", order=80)
