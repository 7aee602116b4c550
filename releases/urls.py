from django.urls import path

from releases import views

app_name = "releases"
urlpatterns = [
    path("releases/", views.release_list_view, name="list"),
    path("projects/<slug:slug>/environments/", views.environments_view, name="environments"),
    path("releases/new/", views.release_create_view, name="create"),
    path("releases/<int:pk>/", views.release_detail, name="detail"),
    path("releases/<int:pk>/edit/", views.release_edit_view, name="edit"),
    path("releases/<int:pk>/promote/", views.release_promote_view, name="promote"),
    path("releases/<int:pk>/cancel/", views.release_cancel_view, name="cancel"),
    path("releases/<int:pk>/tickets/add/", views.ticket_add_view, name="ticket-add"),
    path("releases/<int:pk>/tickets/remove/", views.ticket_remove_view, name="ticket-remove"),
    path("releases/<int:pk>/commits/add/", views.commit_add_view, name="commit-add"),
    path("releases/<int:pk>/commits/remove/", views.commit_remove_view, name="commit-remove"),
    path(
        "releases/<int:pk>/deployments/<int:deployment_pk>/finish/",
        views.deployment_finish_view,
        name="deployment-finish",
    ),
    path(
        "releases/<int:pk>/deployments/<int:deployment_pk>/rollback/",
        views.deployment_rollback_view,
        name="deployment-rollback",
    ),
]
