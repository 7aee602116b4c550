from django.urls import path

from flags.api import views

app_name = "flags-api"

ENV = "flags/projects/<slug:project>/environments/<str:environment>"
urlpatterns = [
    path(f"{ENV}/flags/", views.FlagCollectionView.as_view(), name="flags"),
    path(f"{ENV}/flags/<str:key>/", views.FlagDetailView.as_view(), name="flag"),
    path("flags/releases/<int:id>/plans/", views.PlanCollectionView.as_view(), name="plans"),
    path("flags/plans/<int:id>/", views.PlanDetailView.as_view(), name="plan"),
    *[
        path(f"flags/plans/<int:id>/{action}/", view.as_view(), name=f"plan-{action}")
        for action, view in views.ACTION_VIEWS.items()
    ],
]
