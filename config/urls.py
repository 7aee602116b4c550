from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core import views as core_views
from core import views_pages as core_pages
from releases import views as releases_views

# Each app owns its pages (<app>/urls.py) and its API (<app>/api/urls.py).
APPS = ["projects", "releases", "checklists", "approvals", "monitoring", "audit", "integrations"]

api_v1 = [path("", include(f"{app}.api.urls")) for app in APPS]

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="registration/login.html"),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", releases_views.dashboard, name="dashboard"),
    path("notifications/", core_pages.notification_list, name="notifications"),
    path("account/", core_pages.account, name="account"),
    path("notifications/read/", core_pages.notification_read_all_view, name="notifications-read"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    *[path("", include(f"{app}.urls")) for app in APPS],
]
