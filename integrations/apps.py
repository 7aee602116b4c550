from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "CI integration"

    def ready(self) -> None:
        from core.nav import project_link
        from integrations import tasks  # noqa: F401 - registers the idempotency clean-up with beat

        project_link(
            "API tokens",
            "integrations:tokens",
            order=60,
            description="Tokens for CI pipelines: create, see when they were last used, revoke.",
        )
