from rest_framework.routers import SimpleRouter

from approvals.api.views import ApprovalViewSet, MeetingViewSet, ReleaseApprovalsViewSet

app_name = "approvals-api"

router = SimpleRouter()
router.register("approvals", ApprovalViewSet, basename="approval")
router.register("release-approvals", ReleaseApprovalsViewSet, basename="release-approvals")
router.register("go-no-go", MeetingViewSet, basename="meeting")
urlpatterns = router.urls
