from django.urls import path

from approvals import views

app_name = "approvals"
urlpatterns = [
    path("approvals/inbox/", views.inbox_view, name="inbox"),
    path("approvals/inbox/count/", views.inbox_count_view, name="inbox-count"),
    path("approvals/releases/<int:pk>/", views.release_approvals, name="release"),
    path("approvals/releases/<int:pk>/decide/", views.decide, name="decide"),
    path("approvals/releases/<int:pk>/request/", views.request_approval, name="request"),
    path("approvals/releases/<int:pk>/emergency/", views.emergency, name="emergency"),
    path(
        "approvals/releases/<int:pk>/decisions/<int:approval_pk>/withdraw/",
        views.withdraw,
        name="withdraw",
    ),
    path(
        "approvals/releases/<int:pk>/reviews/<int:review_pk>/complete/",
        views.review_complete,
        name="review-complete",
    ),
    path("approvals/releases/<int:pk>/go-no-go/new/", views.meeting_schedule, name="meeting-new"),
    path("approvals/projects/<slug:slug>/policies/", views.policies, name="policies"),
    path("approvals/meetings/<int:pk>/", views.meeting_detail, name="meeting"),
    path("approvals/meetings/<int:pk>/minutes/", views.meeting_minutes, name="minutes"),
    path("approvals/meetings/<int:pk>/vote/", views.meeting_vote, name="meeting-vote"),
    path(
        "approvals/meetings/<int:pk>/notes/<int:item_pk>/",
        views.meeting_notes,
        name="meeting-notes",
    ),
    path(
        "approvals/meetings/<int:pk>/criteria/<int:criterion_pk>/",
        views.meeting_criterion,
        name="meeting-criterion",
    ),
    path(
        "approvals/meetings/<int:pk>/criteria/add/",
        views.meeting_criterion_add,
        name="meeting-criterion-add",
    ),
    path(
        "approvals/meetings/<int:pk>/attendees/add/",
        views.meeting_attendee_add,
        name="meeting-attendee-add",
    ),
    path("approvals/meetings/<int:pk>/decide/", views.meeting_decide, name="meeting-decide"),
    path("approvals/meetings/<int:pk>/cancel/", views.meeting_cancel, name="meeting-cancel"),
    path(
        "approvals/meetings/<int:pk>/reschedule/",
        views.meeting_reschedule,
        name="meeting-reschedule",
    ),
]
