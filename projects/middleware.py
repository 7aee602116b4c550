"""Send visitors of an empty instance from the login page to the first-run page."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.shortcuts import redirect
from django.urls import reverse


class FirstRunMiddleware:
    """A GET of the login page while nobody has an account goes to /setup/.

    Only the login page pays the one ``EXISTS`` query; every other request passes untouched.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            request.method == "GET"
            and request.path == reverse("login")
            and not get_user_model().objects.exists()
        ):
            return redirect("projects:setup")
        return self.get_response(request)
