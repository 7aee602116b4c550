from django.urls import path
from rest_framework.routers import SimpleRouter

from approvals.api.config import ApprovalPolicyListView, ApprovalPolicyView
from approvals.api.views import ApprovalViewSet, MeetingViewSet, ReleaseApprovalsViewSet

app_name = "approvals-api"

router = SimpleRouter()
router.register("approvals", ApprovalViewSet, basename="approval")
router.register("release-approvals", ReleaseApprovalsViewSet, basename="release-approvals")
router.register("go-no-go", MeetingViewSet, basename="meeting")
urlpatterns = [
    *router.urls,
    path(
        "approvals/projects/<slug:project>/policies/",
        ApprovalPolicyListView.as_view(),
        name="policies",
    ),
    path(
        "approvals/projects/<slug:project>/policies/<str:environment>/",
        ApprovalPolicyView.as_view(),
        name="policy",
    ),
]
