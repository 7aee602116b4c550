from django.urls import path

from configfile.api.views import ConfigApplyView, ConfigExportView, ConfigPlanView, ConfigSchemaView

app_name = "configfile-api"

_SLUG = "<slug:slug>"

urlpatterns = [
    path("config/schema.json", ConfigSchemaView.as_view(), name="schema"),
    path(f"projects/{_SLUG}/config/", ConfigExportView.as_view(), name="export"),
    path(f"projects/{_SLUG}/config/plan/", ConfigPlanView.as_view(), name="plan"),
    path(f"projects/{_SLUG}/config/apply/", ConfigApplyView.as_view(), name="apply"),
]
