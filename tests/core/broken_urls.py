"""The site's URLs plus two views that fail, for the server-error tests."""

from django.urls import path

from config.urls import handler404, handler500  # noqa: F401
from config.urls import urlpatterns as site


def _broken(request):
    raise RuntimeError("a bug, on purpose")


urlpatterns = [
    path("api/v1/broken/", _broken),
    path("broken/", _broken),
    *site,
]
