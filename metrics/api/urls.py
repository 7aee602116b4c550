from django.urls import path

from metrics.api import views

app_name = "metrics-api"
urlpatterns = [
    path("metrics/", views.MetricView.as_view(), name="metric"),
    path("metrics/definitions/", views.DefinitionListView.as_view(), name="definitions"),
    *[
        path(f"metrics/{kind}/", view.as_view(), name=kind)
        for kind, view in views.DRILL_VIEWS.items()
    ],
]
