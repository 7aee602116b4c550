from rest_framework.routers import SimpleRouter

from projects.api import schema  # noqa: F401 - registers the token scheme with drf-spectacular
from projects.api.views import ProjectViewSet

app_name = "projects-api"

router = SimpleRouter()
router.register("projects", ProjectViewSet, basename="project")
urlpatterns = router.urls
