from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = "Projects, people and environments"

    def ready(self) -> None:
        from core.labels import role_labels_register
        from core.nav import nav_item, project_link
        from projects.choices import Role

        # The role_label template filter (core) says roles as people say them.
        role_labels_register(Role.choices)
        nav_item("Projects", "projects:list", order=80)
        project_link(
            "Project settings",
            "projects:settings",
            order=5,
            description="Name, description; archive the project.",
        )
        project_link(
            "Environments and promotion order",
            "projects:settings-environments",
            order=6,
            description="The promotion order: add, rename, reorder and retire environments.",
        )
        project_link(
            "People and roles",
            "projects:settings-people",
            order=7,
            description="Add people and give or remove their roles.",
        )
