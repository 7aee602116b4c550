from django.apps import AppConfig


class ConfigfileConfig(AppConfig):
    name = "configfile"
    verbose_name = "Configuration as code"
