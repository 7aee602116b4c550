from django.urls import path

from compliance.api import views

app_name = "audit-api"
urlpatterns = [
    path("audit/events/", views.AuditEventListView.as_view(), name="events"),
    path("audit/exports/jsonl/", views.AuditExportJsonlView.as_view(), name="export-jsonl"),
    path("audit/exports/csv/", views.AuditExportCsvView.as_view(), name="export-csv"),
    path("audit/release-history/", views.ReleaseHistoryView.as_view(), name="history"),
    path("audit/releases/<int:pk>/record/", views.ReleaseRecordView.as_view(), name="record"),
    path(
        "audit/releases/<int:pk>/record/pdf/",
        views.ReleaseRecordPdfView.as_view(),
        name="record-pdf",
    ),
    path("audit/checkpoints/", views.CheckpointListView.as_view(), name="checkpoints"),
]
