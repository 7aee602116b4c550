from django.urls import path
from rest_framework.routers import SimpleRouter

from deploycalendar.api.views import (
    CalendarView,
    FreezeViewSet,
    OverrideViewSet,
    QueueViewSet,
    WindowViewSet,
)

app_name = "deploycalendar-api"

router = SimpleRouter()
router.register("calendar/windows", WindowViewSet, basename="window")
router.register("calendar/freezes", FreezeViewSet, basename="freeze")
router.register("calendar/overrides", OverrideViewSet, basename="override")
router.register("calendar/queue", QueueViewSet, basename="queue")
urlpatterns = [
    path("calendar/", CalendarView.as_view(), name="calendar"),
    *router.urls,
]
