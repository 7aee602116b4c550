from django.urls import path

from notifications.api import views

app_name = "notifications-api"
P = "notifications/projects/<slug:project>"
urlpatterns = [
    path(f"{P}/subscribers/", views.SubscriberCollectionView.as_view(), name="subscribers"),
    path(f"{P}/channels/", views.ChannelCollectionView.as_view(), name="channels"),
    path(f"{P}/preferences/", views.PreferenceView.as_view(), name="preferences"),
    path(f"{P}/deliveries/", views.DeliveryCollectionView.as_view(), name="deliveries"),
    path(
        "notifications/subscribers/<int:pk>/",
        views.SubscriberDetailView.as_view(),
        name="subscriber",
    ),
    path("notifications/channels/<int:pk>/", views.ChannelDetailView.as_view(), name="channel"),
    path("notifications/deliveries/<int:pk>/", views.DeliveryDetailView.as_view(), name="delivery"),
    path(
        "notifications/deliveries/<int:pk>/resend/",
        views.DeliveryResendView.as_view(),
        name="delivery-resend",
    ),
]
