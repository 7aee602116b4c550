from django.urls import path
from rest_framework.routers import SimpleRouter

from integrations.api.views import CiReleaseViewSet, CiWhoAmIView

app_name = "integrations-api"

router = SimpleRouter()
router.register("ci/releases", CiReleaseViewSet, basename="ci-release")

urlpatterns = [
    path("ci/whoami/", CiWhoAmIView.as_view(), name="ci-whoami"),
    *router.urls,
]
