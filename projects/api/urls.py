from rest_framework.routers import SimpleRouter

from projects.api import schema  # noqa: F401 - registers the token scheme with drf-spectacular
from projects.api.views import EnvironmentViewSet, MemberViewSet, ProjectViewSet, TokenViewSet

app_name = "projects-api"

_PROJECT = r"projects/(?P<project_slug>[-a-zA-Z0-9_]+)"

router = SimpleRouter()
router.register("projects", ProjectViewSet, basename="project")
router.register(f"{_PROJECT}/environments", EnvironmentViewSet, basename="environment")
router.register(f"{_PROJECT}/members", MemberViewSet, basename="member")
router.register(f"{_PROJECT}/tokens", TokenViewSet, basename="token")
urlpatterns = router.urls
