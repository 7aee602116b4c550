from django.urls import path

from releasenotes import views

app_name = "releasenotes"
urlpatterns = [
    path("release-notes/releases/<int:release_id>/", views.notes_section, name="section"),
    path(
        "release-notes/releases/<int:release_id>/regenerate/",
        views.notes_regenerate,
        name="regenerate",
    ),
    path("release-notes/releases/<int:release_id>/edit/", views.notes_edit, name="edit"),
    path("release-notes/releases/<int:release_id>/publish/", views.notes_publish, name="publish"),
    path("release-notes/releases/<int:release_id>/links/", views.link_create, name="link-create"),
    path(
        "release-notes/releases/<int:release_id>/links/<int:link_id>/revoke/",
        views.link_revoke,
        name="link-revoke",
    ),
    path(
        "release-notes/releases/<int:release_id>/notes.md",
        views.download_markdown,
        name="download-md",
    ),
    path(
        "release-notes/releases/<int:release_id>/notes.html",
        views.download_html,
        name="download-html",
    ),
    path(
        "release-notes/releases/<int:release_id>/environments/<str:environment>/",
        views.environment_page,
        name="environment",
    ),
    path("release-notes/projects/<slug:slug>/CHANGELOG.md", views.changelog, name="changelog"),
    path("release-notes/projects/<slug:slug>/settings/", views.project_settings, name="settings"),
    path("release-notes/p/<str:secret>/", views.public_page, name="public"),
    path("release-notes/p/<str:secret>/notes.md", views.public_markdown, name="public-md"),
]
