from django.apps import AppConfig


class ReleaseNotesConfig(AppConfig):
    name = "releasenotes"
    verbose_name = "Release notes"
    default_auto_field = "django.db.models.BigAutoField"
