from django.urls import path

from approvals.views import decisions, emergency, inbox, meetings, policies

app_name = "approvals"
urlpatterns = [
    path("approvals/inbox/", inbox.inbox_view, name="inbox"),
    path("approvals/inbox/count/", inbox.inbox_count_view, name="inbox-count"),
    path("approvals/releases/<int:pk>/", decisions.release_approvals, name="release"),
    path("approvals/releases/<int:pk>/decide/", decisions.decide, name="decide"),
    path("approvals/releases/<int:pk>/request/", decisions.request_approval, name="request"),
    path("approvals/releases/<int:pk>/emergency/", emergency.emergency, name="emergency"),
    path(
        "approvals/releases/<int:pk>/decisions/<int:approval_pk>/withdraw/",
        decisions.withdraw,
        name="withdraw",
    ),
    path(
        "approvals/releases/<int:pk>/reviews/<int:review_pk>/complete/",
        emergency.review_complete,
        name="review-complete",
    ),
    path(
        "approvals/releases/<int:pk>/go-no-go/new/", meetings.meeting_schedule, name="meeting-new"
    ),
    path("approvals/projects/<slug:slug>/policies/", policies.policies, name="policies"),
    path("approvals/meetings/<int:pk>/", meetings.meeting_detail, name="meeting"),
    path("approvals/meetings/<int:pk>/minutes/", meetings.meeting_minutes, name="minutes"),
    path("approvals/meetings/<int:pk>/vote/", meetings.meeting_vote, name="meeting-vote"),
    path(
        "approvals/meetings/<int:pk>/notes/<int:item_pk>/",
        meetings.meeting_notes,
        name="meeting-notes",
    ),
    path(
        "approvals/meetings/<int:pk>/criteria/<int:criterion_pk>/",
        meetings.meeting_criterion,
        name="meeting-criterion",
    ),
    path(
        "approvals/meetings/<int:pk>/criteria/add/",
        meetings.meeting_criterion_add,
        name="meeting-criterion-add",
    ),
    path(
        "approvals/meetings/<int:pk>/attendees/add/",
        meetings.meeting_attendee_add,
        name="meeting-attendee-add",
    ),
    path("approvals/meetings/<int:pk>/decide/", meetings.meeting_decide, name="meeting-decide"),
    path("approvals/meetings/<int:pk>/cancel/", meetings.meeting_cancel, name="meeting-cancel"),
    path(
        "approvals/meetings/<int:pk>/reschedule/",
        meetings.meeting_reschedule,
        name="meeting-reschedule",
    ),
]
