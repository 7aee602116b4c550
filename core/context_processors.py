from django.urls import NoReverseMatch, reverse

from core.nav import nav_items


def navigation(request):
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    match = getattr(request, "resolver_match", None)
    namespace = match.namespace if match else ""
    items = []
    for item in nav_items():
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        current = namespace == item.section or bool(match and match.view_name == item.url_name)
        items.append(
            {
                "label": item.label,
                "url": url,
                "current": current,
                "badge_url": reverse(item.badge_url_name) if item.badge_url_name else "",
            }
        )
    return {"nav_items": items, "unread_notification_count": lambda: _unread_count(request.user)}


# The badge stops counting here: "99+" says as much as 11,442 and costs a bounded query
# (COUNT over at most this many index entries) however many unread rows a person has.
UNREAD_BADGE_LIMIT = 100


def _unread_count(user) -> int | str:
    """Counted only when a template shows it (the top bar), so fragments cost no query."""
    from core.models import Notification

    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    count = unread.order_by()[:UNREAD_BADGE_LIMIT].count()
    return f"{UNREAD_BADGE_LIMIT - 1}+" if count >= UNREAD_BADGE_LIMIT else count
