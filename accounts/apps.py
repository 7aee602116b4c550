from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "People and sign-in"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts import (
            logfilters,
            signals,  # noqa: F401 - provider groups → roles at each sign-in
        )
        from core.nav import project_link

        logfilters.install()
        project_link(
            "Invitations",
            "accounts:invitations",
            order=30,
            description="Invite people by e-mail with their roles; resend or revoke pending invitations.",
        )
        project_link(
            "Identity provider groups",
            "accounts:group-mappings",
            order=35,
            description="Let roles follow the groups of the company's identity provider.",
        )
        project_link(
            "Sign-in security",
            "accounts:project-security",
            order=36,
            description="Require a second factor from the people who approve production or emergency releases.",
        )
