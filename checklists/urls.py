from django.urls import path

from checklists import template_views, views

app_name = "checklists"
urlpatterns = [
    path("checklists/mine/", views.my_items, name="my_items"),
    path("checklists/releases/<int:release_id>/", views.release_checklist, name="release"),
    path("checklists/releases/<int:release_id>/start/", views.checklist_start, name="start"),
    path("checklists/releases/<int:release_id>/append/", views.checklist_append, name="append"),
    path("checklists/items/<int:item_id>/tick/", views.item_tick, name="item_tick"),
    path("checklists/items/<int:item_id>/untick/", views.item_untick, name="item_untick"),
    path(
        "checklists/items/<int:item_id>/not-applicable/",
        views.item_not_applicable,
        name="item_not_applicable",
    ),
    path("checklists/steps/<int:step_id>/items/", views.item_add, name="item_add"),
    path("checklists/steps/<int:step_id>/output/", views.step_output, name="step_output"),
    path("checklists/templates/", template_views.templates, name="templates"),
    path("checklists/templates/new/", template_views.template_create, name="template_create"),
    path("checklists/templates/<int:pk>/", template_views.template_detail, name="template_detail"),
    path(
        "checklists/templates/<int:pk>/preview/",
        template_views.template_preview,
        name="template_preview",
    ),
    path(
        "checklists/templates/<int:pk>/<slug:op>/",
        template_views.template_action,
        name="template_action",
    ),
    path(
        "checklists/template-steps/<int:pk>/<slug:op>/",
        template_views.template_step_action,
        name="template_step_action",
    ),
    path(
        "checklists/template-items/<int:pk>/<slug:op>/",
        template_views.template_item_action,
        name="template_item_action",
    ),
]
