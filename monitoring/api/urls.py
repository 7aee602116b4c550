from rest_framework.routers import SimpleRouter

from monitoring.api.views import MonitoredDeploymentViewSet, WindowViewSet

app_name = "monitoring-api"

router = SimpleRouter()
router.register("monitoring/deployments", MonitoredDeploymentViewSet, basename="deployment")
router.register("monitoring/windows", WindowViewSet, basename="window")
urlpatterns = router.urls
