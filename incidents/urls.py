from django.urls import path

from incidents import views

app_name = "incidents"
urlpatterns = [
    path("incidents/", views.incident_list, name="list"),
    path("incidents/open/", views.incident_open_view, name="open"),
    path("incidents/<int:pk>/", views.incident_detail, name="detail"),
    path("incidents/<int:pk>/update/", views.incident_update_view, name="update"),
    path("incidents/<int:pk>/entry/", views.incident_entry_view, name="entry"),
    path("incidents/<int:pk>/mitigation/", views.incident_mitigation_view, name="mitigation"),
    path("incidents/<int:pk>/hotfix/", views.incident_hotfix_view, name="hotfix"),
    path("incidents/<int:pk>/people/", views.incident_people_view, name="people"),
    path("incidents/<int:pk>/postmortem/", views.incident_postmortem_view, name="write-postmortem"),
    path("postmortems/", views.postmortem_list_view, name="postmortems"),
    path("postmortems/<int:pk>/", views.postmortem_detail, name="postmortem"),
    path("postmortems/<int:pk>/state/", views.postmortem_state_view, name="postmortem-state"),
    path("postmortems/<int:pk>/items/", views.postmortem_item_add_view, name="item-add"),
    path(
        "postmortems/<int:pk>/items/<int:item_pk>/done/",
        views.postmortem_item_done_view,
        name="item-done",
    ),
    path("releases/<int:pk>/closing/", views.release_close_view, name="release-close"),
    path(
        "releases/<int:pk>/closing/tickets/<int:ticket_pk>/",
        views.ticket_check_view,
        name="ticket-check",
    ),
    path("releases/<int:pk>/retrospective/", views.retrospective_view, name="retrospective"),
    path("projects/<slug:slug>/incident-settings/", views.settings_view, name="settings"),
]
