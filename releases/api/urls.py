from rest_framework.routers import SimpleRouter

from releases.api.views import DeploymentViewSet, ReleaseViewSet

app_name = "releases-api"

router = SimpleRouter()
router.register("releases", ReleaseViewSet, basename="release")
router.register("deployments", DeploymentViewSet, basename="deployment")
urlpatterns = router.urls
