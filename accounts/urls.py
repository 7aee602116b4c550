from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("invitations/accept/", views.invitation_accept, name="invitation-accept"),
    path("invitations/<str:token>/", views.invitation_open, name="invitation-open"),
    path("projects/<slug:slug>/invitations/", views.invitation_list, name="invitations"),
    path(
        "projects/<slug:slug>/invitations/<int:pk>/resend/",
        views.invitation_resend,
        name="invitation-resend",
    ),
    path(
        "projects/<slug:slug>/invitations/<int:pk>/revoke/",
        views.invitation_revoke,
        name="invitation-revoke",
    ),
    path("projects/<slug:slug>/provider-groups/", views.group_mapping_list, name="group-mappings"),
    path(
        "projects/<slug:slug>/provider-groups/<int:pk>/remove/",
        views.group_mapping_remove,
        name="group-mapping-remove",
    ),
    path("projects/<slug:slug>/sign-in-security/", views.project_security, name="project-security"),
    path("people/", views.people_list, name="people"),
    path("people/<str:username>/deactivate/", views.person_deactivate, name="person-deactivate"),
    path("people/<str:username>/reactivate/", views.person_reactivate, name="person-reactivate"),
    path("account/security/", views.my_security, name="security"),
    path("account/sessions/end/", views.session_end, name="session-end"),
]
