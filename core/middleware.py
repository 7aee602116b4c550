"""Keep /api/ answering JSON even when Django itself produces the error.

DRF's handler covers errors raised inside API views. Errors that happen
outside them (an unknown URL, a body over the size limit, an unexpected
exception) would otherwise reach the client as Django's HTML pages.
"""

from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse

from core.api.errors import error_body, server_error_body

logger = logging.getLogger(__name__)

_STATUS_CODES = {
    404: ("not_found", "No such endpoint or object."),
    405: ("method_not_allowed", "This method is not allowed here."),
    413: ("payload_too_large", "The request body is larger than this endpoint accepts."),
    500: ("server_error", "The server could not answer this request."),
}


def _is_api(request) -> bool:
    return request.path.startswith("/api/") and not request.path.startswith("/api/docs")


class ApiErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not _is_api(request):
            return response
        content_type = response.get("Content-Type", "")
        if response.status_code == 500 and "json" not in content_type:
            return JsonResponse(server_error_body(), status=500)
        if response.status_code in _STATUS_CODES and "json" not in content_type:
            code, message = _STATUS_CODES[response.status_code]
            return JsonResponse(error_body(code, message), status=response.status_code)
        if response.status_code == 403 and "json" not in content_type:
            return JsonResponse(
                error_body("csrf_failed", "CSRF check failed: send the X-CSRFToken header."),
                status=403,
            )
        return response

    def process_exception(self, request, exception):
        if not _is_api(request):
            return _page_error(request, exception)
        if isinstance(exception, RequestDataTooBig):
            code, message = _STATUS_CODES[413]
            return JsonResponse(error_body(code, message), status=413)
        logger.exception("Unhandled error in %s %s", request.method, request.path)
        return JsonResponse(server_error_body(), status=500)


def _page_error(request, exception):
    """Domain errors raised by a page view: NotFound → 404, PermissionDenied → 403,
    any other refusal → its status with the readable message. Anything else is left to Django."""
    from django.shortcuts import render
    from django.views import defaults

    from core.exceptions import DomainError, NotFound, PermissionDenied

    if isinstance(exception, NotFound):
        from core.views_pages import page_not_found

        return page_not_found(request, exception)
    if isinstance(exception, PermissionDenied):
        return defaults.permission_denied(request, exception)
    if isinstance(exception, DomainError):
        return render(
            request, "core/error.html", {"message": exception.message}, status=exception.status
        )
    return None


class NotFoundPageMiddleware:
    """Pages answer 404 with the product's page, also with DEBUG on.

    With DEBUG on Django answers a 404 with its technical page, which lists every URL pattern
    of the site to anyone, a person outside the project included. This middleware (last in
    MIDDLEWARE, so it sees a view's Http404 first) renders ``404.html`` instead; the API keeps
    its JSON errors (ApiErrorMiddleware).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code == 404
            and not _is_api(request)
            and not getattr(response, "shipcheck_page", False)
            and not getattr(response, "streaming", False)
            and b"DEBUG = True" in response.content
        ):
            from core.views_pages import page_not_found

            return page_not_found(request, None)
        return response

    def process_exception(self, request, exception):
        from django.http import Http404

        if isinstance(exception, Http404) and not _is_api(request):
            from core.views_pages import page_not_found

            return page_not_found(request, exception)
        return None


class TimeZoneMiddleware:
    """Show and read times in the person's zone: chosen on the account page, else the browser's.

    The chosen zone is looked up once per session and kept in it, so a page costs no query.
    The API keeps answering ISO 8601 in UTC whatever the zone.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.utils import timezone

        from core.profiles import COOKIE_NAME, SESSION_KEY, profile_time_zone, valid_time_zone

        zone = ""
        user = getattr(request, "user", None)
        if not _is_api(request) and user is not None and user.is_authenticated:
            session = getattr(request, "session", None)
            if session is not None:
                if SESSION_KEY not in session:
                    session[SESSION_KEY] = profile_time_zone(user=user)
                zone = session[SESSION_KEY]
            zone = valid_time_zone(zone) or valid_time_zone(request.COOKIES.get(COOKIE_NAME))
        if zone:
            timezone.activate(zone)
        else:
            timezone.deactivate()
        request.time_zone = timezone.get_current_timezone_name()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
