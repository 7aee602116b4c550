"""Sign-in through the OpenID Connect provider: allauth's views, with a clear page when the
provider cannot be reached or answers something unusable (never a 500)."""

from __future__ import annotations

import logging

from allauth.socialaccount.providers.openid_connect import views as oidc_views
from django.shortcuts import render
from django.views.decorators.http import require_http_methods
from requests import RequestException

logger = logging.getLogger(__name__)

PROVIDER_DOWN = (
    "The identity provider could not be reached or gave an answer Shipcheck cannot use, so "
    "you are not signed in. Try again in a moment, or sign in with your username and password."
)


def error_page(request, message: str = PROVIDER_DOWN, status: int = 502):
    return render(
        request, "socialaccount/authentication_error.html", {"message": message}, status=status
    )


def _guarded(view):
    def wrapper(request, provider_id):
        try:
            return view(request, provider_id)
        except (RequestException, ValueError, KeyError, TypeError) as exc:
            # The exception's class and the provider id only: its text may hold a code or token.
            logger.warning(
                "OpenID Connect sign-in failed: %s (provider %s)", type(exc).__name__, provider_id
            )
            return error_page(request)

    wrapper.__name__ = view.__name__
    return wrapper


login = require_http_methods(["GET", "HEAD", "POST"])(_guarded(oidc_views.login))
callback = require_http_methods(["GET", "HEAD", "POST"])(_guarded(oidc_views.callback))
