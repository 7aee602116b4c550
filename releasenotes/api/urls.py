from django.urls import path

from releasenotes.api import views

app_name = "releasenotes-api"
_R = "release-notes/releases/<int:release_id>/"
urlpatterns = [
    path(_R, views.NotesView.as_view(), name="notes"),
    path(_R + "regenerate/", views.RegenerateView.as_view(), name="regenerate"),
    path(_R + "edit/", views.EditView.as_view(), name="edit"),
    path(_R + "publish/", views.PublishView.as_view(), name="publish"),
    path(_R + "versions/", views.VersionListView.as_view(), name="versions"),
    path(_R + "versions/<int:number>/", views.VersionDetailView.as_view(), name="version"),
    path(
        _R + "environments/<str:environment>/",
        views.EnvironmentNotesView.as_view(),
        name="environment",
    ),
    path(_R + "links/", views.LinkListView.as_view(), name="links"),
    path(_R + "links/<int:link_id>/revoke/", views.LinkRevokeView.as_view(), name="link-revoke"),
    path(
        "release-notes/projects/<slug:slug>/changelog/",
        views.ChangelogView.as_view(),
        name="changelog",
    ),
    path(
        "release-notes/projects/<slug:slug>/settings/",
        views.SettingsView.as_view(),
        name="settings",
    ),
    path("release-notes/public/<str:secret>/", views.PublicNotesView.as_view(), name="public"),
]
