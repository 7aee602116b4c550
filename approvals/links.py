"""Links to a release, for notifications (services) and the inbox (selectors) alike."""

from __future__ import annotations

from django.urls import NoReverseMatch

from releases.models import Release


def release_url(release: Release) -> str:
    """The release page's path, or "" where the releases URLs are not mounted."""
    try:
        return release.get_absolute_url()
    except NoReverseMatch:
        return ""
