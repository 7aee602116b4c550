from django.urls import path
from rest_framework.routers import SimpleRouter

from monitoring.api import config
from monitoring.api.views import MonitoredDeploymentViewSet, WindowViewSet

app_name = "monitoring-api"

router = SimpleRouter()
router.register("monitoring/deployments", MonitoredDeploymentViewSet, basename="deployment")
router.register("monitoring/windows", WindowViewSet, basename="window")

ENV = "monitoring/projects/<slug:project>/environments/<str:environment>"
urlpatterns = [
    *router.urls,
    path(f"{ENV}/policy/", config.PolicyView.as_view(), name="policy"),
    path(f"{ENV}/rollback-hook/", config.RollbackHookView.as_view(), name="rollback-hook"),
    path(
        f"{ENV}/health-checks/",
        config.HealthCheckCollectionView.as_view(),
        name="health-checks",
    ),
    path(
        f"{ENV}/metric-checks/",
        config.MetricCheckCollectionView.as_view(),
        name="metric-checks",
    ),
    path(
        "monitoring/health-checks/<int:pk>/",
        config.HealthCheckDetailView.as_view(),
        name="health-check",
    ),
    path(
        "monitoring/metric-checks/<int:pk>/",
        config.MetricCheckDetailView.as_view(),
        name="metric-check",
    ),
]
