from django.urls import path

from deploycalendar import views

app_name = "deploycalendar"
urlpatterns = [
    path("calendar/", views.calendar_page, name="calendar"),
    path("calendar/feed/<str:token>.ics", views.feed, name="feed"),
    path("calendar/feed-token/", views.feed_token, name="feed-token"),
    path("releases/<int:pk>/calendar/", views.release_calendar, name="release"),
    path("releases/<int:pk>/calendar/queue/", views.queue_add, name="queue-add"),
    path(
        "releases/<int:pk>/calendar/queue/<int:item_pk>/cancel/",
        views.queue_cancel,
        name="queue-cancel",
    ),
    path("releases/<int:pk>/calendar/override/", views.override_grant, name="override"),
    path("releases/<int:pk>/calendar/schedule/", views.schedule_set, name="schedule"),
]
