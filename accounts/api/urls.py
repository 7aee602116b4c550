from django.urls import path

from accounts.api import views

app_name = "accounts-api"
urlpatterns = [
    path(
        "projects/<slug:slug>/invitations/",
        views.InvitationListView.as_view(),
        name="invitations",
    ),
    path(
        "projects/<slug:slug>/invitations/<int:pk>/revoke/",
        views.InvitationRevokeView.as_view(),
        name="invitation-revoke",
    ),
    path(
        "projects/<slug:slug>/invitations/<int:pk>/resend/",
        views.InvitationResendView.as_view(),
        name="invitation-resend",
    ),
    path(
        "projects/<slug:slug>/group-mappings/",
        views.GroupMappingListView.as_view(),
        name="group-mappings",
    ),
    path(
        "projects/<slug:slug>/group-mappings/<int:pk>/",
        views.GroupMappingDetailView.as_view(),
        name="group-mapping",
    ),
    path(
        "projects/<slug:slug>/sign-in-security/",
        views.ProjectSecurityView.as_view(),
        name="project-security",
    ),
    path(
        "people/<str:username>/deactivate/",
        views.PersonDeactivateView.as_view(),
        name="person-deactivate",
    ),
    path(
        "people/<str:username>/reactivate/",
        views.PersonReactivateView.as_view(),
        name="person-reactivate",
    ),
]
