from django.urls import path

from projects import settings_views, views

app_name = "projects"
urlpatterns = [
    path("setup/", settings_views.setup_view, name="setup"),
    path("projects/", views.project_list_view, name="list"),
    path("projects/new/", settings_views.project_create_view, name="create"),
    path("projects/<slug:slug>/", views.project_detail, name="detail"),
    path("projects/<slug:slug>/settings/", settings_views.project_settings, name="settings"),
    path(
        "projects/<slug:slug>/settings/environments/",
        settings_views.environment_settings,
        name="settings-environments",
    ),
    path(
        "projects/<slug:slug>/settings/environment-order/",
        settings_views.environment_reorder_view,
        name="settings-environment-reorder",
    ),
    path(
        "projects/<slug:slug>/settings/environments/<slug:environment>/",
        settings_views.environment_edit,
        name="settings-environment-edit",
    ),
    path(
        "projects/<slug:slug>/settings/environments/<slug:environment>/move/",
        settings_views.environment_move,
        name="settings-environment-move",
    ),
    path(
        "projects/<slug:slug>/settings/environments/<slug:environment>/retire/",
        settings_views.environment_retire_view,
        name="settings-environment-retire",
    ),
    path(
        "projects/<slug:slug>/settings/people/",
        settings_views.people_settings,
        name="settings-people",
    ),
    path(
        "projects/<slug:slug>/settings/people/remove/",
        settings_views.people_remove,
        name="settings-people-remove",
    ),
]
