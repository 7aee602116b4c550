from django.apps import AppConfig


class DeployCalendarConfig(AppConfig):
    name = "deploycalendar"
    verbose_name = "Release calendar"
    default_auto_field = "django.db.models.BigAutoField"
