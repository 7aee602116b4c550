from django.urls import path

from metrics import views

app_name = "metrics"
# /metrics is Prometheus's scrape endpoint, so the pages live under /delivery/.
urlpatterns = [
    path("delivery/", views.dashboard, name="dashboard"),
    path("delivery/review/", views.review, name="review"),
    path("delivery/<slug:kind>/", views.drill, name="drill"),
    path("delivery/<slug:kind>.csv", views.drill, {"fmt": "csv"}, name="drill-csv"),
    path("projects/<slug:slug>/delivery/", views.dashboard, name="project"),
    path("projects/<slug:slug>/delivery/settings/", views.settings_view, name="settings"),
]
