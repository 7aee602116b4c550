from django.urls import path

from compliance import views

app_name = "audit"
urlpatterns = [
    path("audit/", views.audit_event_list_view, name="events"),
    path("audit/export.csv", views.audit_export_view, {"fmt": "csv"}, name="export-csv"),
    path("audit/export.jsonl", views.audit_export_view, {"fmt": "jsonl"}, name="export-jsonl"),
    path("audit/release-history/", views.release_history_view, name="history"),
    path(
        "audit/release-history.csv", views.release_history_view, {"fmt": "csv"}, name="history-csv"
    ),
    path(
        "audit/release-history.json",
        views.release_history_view,
        {"fmt": "json"},
        name="history-json",
    ),
    path("audit/releases/<int:pk>/record/", views.release_record_view, name="record"),
    path("audit/releases/<int:pk>/record.pdf", views.release_record_pdf_view, name="record-pdf"),
    path("audit/releases/<int:pk>/record.json", views.release_record_json_view, name="record-json"),
]
