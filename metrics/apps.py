from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "metrics"
    verbose_name = "Delivery metrics"
    default_auto_field = "django.db.models.BigAutoField"
