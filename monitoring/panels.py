"""The monitoring section of the release page (registered with ``releases.registry.panel``)."""

from __future__ import annotations

from monitoring.choices import WINDOW_OPEN_STATES, WindowStatus
from monitoring.selectors import release_windows


def monitoring_panel_context(release, request) -> dict:
    """Every window of the release with its checks' verdicts: two queries whatever the size."""
    windows = release_windows(release)
    return {
        "windows": windows,
        "open_windows": [w for w in windows if w.status in WINDOW_OPEN_STATES],
        "failed_windows": [w for w in windows if w.status == WindowStatus.FAILED],
    }
