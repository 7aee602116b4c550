from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts import oidc as accounts_oidc
from accounts import views as accounts_views
from core import observability as core_observability
from core import views as core_views
from core import views_cli as core_cli
from core import views_pages as core_pages
from releases import views as releases_views

# Each app owns its pages (<app>/urls.py) and its API (<app>/api/urls.py).
APPS = [
    "projects",
    "releases",
    "checklists",
    "approvals",
    "monitoring",
    "compliance",
    "integrations",
]
APPS += ["configfile"]  # shipcheck.yml: config as code (export, plan, apply)
APPS.append("accounts")  # people, invitations and sign-in (docs/sign-in.md)
# Composed capabilities and the apps beside compliance (docs/architecture.md).
APPS += ["deploycalendar", "flags", "incidents", "releasenotes", "notifications", "metrics"]

api_v1 = [path("", include(f"{app}.api.urls")) for app in APPS]

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("cli/", core_cli.cli_index, name="cli"),
    path("cli/<str:filename>", core_cli.cli_wheel, name="cli-wheel"),
    path("login/", accounts_views.LoginView.as_view(), name="login"),
    path("metrics", core_observability.metrics, name="metrics"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", releases_views.dashboard, name="dashboard"),
    path("notifications/", core_pages.notification_list, name="notifications"),
    path("account/", accounts_views.account, name="account"),
    path("notifications/read/", core_pages.notification_read_all_view, name="notifications-read"),
    path("admin/", admin.site.urls),
    # django-allauth (OpenID Connect, MFA, sessions); its own login form is ours (accounts/views.py).
    path("accounts/login/", accounts_views.LoginView.as_view(), name="account_login"),
    path("accounts/oidc/<str:provider_id>/login/", accounts_oidc.login),
    path("accounts/oidc/<str:provider_id>/login/callback/", accounts_oidc.callback),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    *[path("", include(f"{app}.urls")) for app in APPS],
]

handler404 = "core.views_pages.page_not_found"
handler500 = "core.views_pages.server_error"
