from django.urls import reverse


def navigation(request):
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    match = getattr(request, "resolver_match", None)
    current = match.view_name if match else ""
    return {"nav_current": current, "nav_logout_url": reverse("logout")}
