from django.urls import path
from rest_framework.routers import SimpleRouter

from checklists.api.views import (
    ChecklistItemViewSet,
    ChecklistStepViewSet,
    ChecklistTemplateViewSet,
    ReleaseChecklistView,
)

app_name = "checklists-api"

router = SimpleRouter()
router.register("checklist-items", ChecklistItemViewSet, basename="item")
router.register("checklist-steps", ChecklistStepViewSet, basename="step")
router.register("checklist-templates", ChecklistTemplateViewSet, basename="template")

urlpatterns = [
    path(
        "releases/<int:release_id>/checklist/",
        ReleaseChecklistView.as_view(),
        name="release-checklist",
    ),
    *router.urls,
]
