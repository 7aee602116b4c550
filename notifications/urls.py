from django.urls import path

from notifications import views

app_name = "notifications"
P = "notifications/projects/<slug:slug>"
urlpatterns = [
    path(f"{P}/", views.project_settings, name="settings"),
    path(f"{P}/subscribers/", views.subscriber_add, name="subscriber-add"),
    path(f"{P}/channels/", views.channel_add, name="channel-add"),
    path(f"{P}/deliveries/", views.delivery_log, name="log"),
    path(f"{P}/templates/", views.template_edit, name="templates"),
    path(f"{P}/preferences/", views.preferences, name="preferences"),
    path(
        "notifications/subscribers/<int:pk>/remove/",
        views.subscriber_remove,
        name="subscriber-remove",
    ),
    path("notifications/channels/<int:pk>/", views.channel_change, name="channel-change"),
    path("notifications/deliveries/<int:pk>/resend/", views.delivery_resend, name="resend"),
    path(
        "notifications/checklist-items/<int:pk>/stakeholders-told/",
        views.stakeholders_told,
        name="stakeholders-told",
    ),
    path("notifications/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
