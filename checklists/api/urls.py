from django.urls import path
from rest_framework.routers import SimpleRouter

from checklists.api.template_config import TemplateItemViewSet, TemplateStepViewSet
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
router.register("checklist-template-steps", TemplateStepViewSet, basename="template-step")
router.register("checklist-template-items", TemplateItemViewSet, basename="template-item")

urlpatterns = [
    path(
        "releases/<int:release_id>/checklist/",
        ReleaseChecklistView.as_view(),
        name="release-checklist",
    ),
    *router.urls,
]
