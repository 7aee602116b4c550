from django.urls import path
from rest_framework.routers import SimpleRouter

from incidents.api import views

app_name = "incidents-api"

router = SimpleRouter()
router.register("incidents", views.IncidentViewSet, basename="incident")
router.register("postmortems", views.PostMortemViewSet, basename="postmortem")
router.register("escaped-defects", views.EscapedDefectViewSet, basename="escaped-defect")

closing = views.ClosingViewSet
urlpatterns = [
    *router.urls,
    path("releases/<str:pk>/closing/", closing.as_view({"get": "retrieve"}), name="closing"),
    path(
        "releases/<str:pk>/closing/close/", closing.as_view({"post": "close"}), name="closing-close"
    ),
    path(
        "releases/<str:pk>/closing/tickets/<str:key>/",
        closing.as_view({"post": "ticket"}),
        name="closing-ticket",
    ),
]
