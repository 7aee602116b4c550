from django.urls import path

from flags import sdk_views, views

app_name = "flags"
urlpatterns = [
    # What applications call (outside /api/v1/: the paths the SDKs expect).
    path("ofrep/v1/evaluate/flags", sdk_views.ofrep_bulk, name="ofrep-bulk"),
    path("ofrep/v1/evaluate/flags/<str:key>", sdk_views.ofrep_flag, name="ofrep-flag"),
    path("api/client/features", sdk_views.unleash_features, name="unleash-features"),
    path("api/client/register", sdk_views.unleash_accept, name="unleash-register"),
    path("api/client/metrics", sdk_views.unleash_accept, name="unleash-metrics"),
    # Pages.
    path("projects/<slug:slug>/flags/", views.flags_index, name="index"),
    path("projects/<slug:slug>/flags/<str:environment>/", views.flags_page, name="environment"),
    path("flags/<int:pk>/edit/", views.flag_edit, name="edit"),
    path("flags/keys/<int:pk>/revoke/", views.key_revoke, name="key-revoke"),
    path("releases/<int:pk>/flag-plans/", views.plan_panel, name="plan-panel"),
    path("releases/<int:pk>/flag-plans/new/", views.plan_new, name="plan-new"),
    path("flag-plans/<int:pk>/<str:action>/", views.plan_action, name="plan-action"),
]
