from django.urls import path

from monitoring import views

app_name = "monitoring"
urlpatterns = [
    path("monitoring/", views.index, name="index"),
    path("monitoring/windows/<int:pk>/", views.window_detail, name="window"),
    path("monitoring/windows/<int:pk>/decide/", views.window_decide, name="window-decide"),
    path(
        "monitoring/windows/<int:pk>/rolled-back/",
        views.window_record_rollback,
        name="window-rolled-back",
    ),
    path(
        "monitoring/projects/<slug:project_slug>/environments/<slug:env_name>/",
        views.environment_config,
        name="environment",
    ),
    path(
        "monitoring/projects/<slug:project_slug>/environments/<slug:env_name>/policy/",
        views.policy_save,
        name="policy",
    ),
    path(
        "monitoring/projects/<slug:project_slug>/environments/<slug:env_name>/prechecks/",
        views.precheck_run,
        name="prechecks",
    ),
    path(
        "monitoring/projects/<slug:project_slug>/environments/<slug:env_name>/checks/<str:kind>/new/",
        views.check_new,
        name="check-new",
    ),
    path("monitoring/checks/<str:kind>/<int:pk>/", views.check_edit, name="check-edit"),
    path("monitoring/checks/<str:kind>/<int:pk>/delete/", views.check_delete, name="check-delete"),
    path("monitoring/checks/<str:kind>/<int:pk>/test/", views.check_test, name="check-test"),
]
