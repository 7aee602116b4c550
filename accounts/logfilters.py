"""Keep invitation secrets out of the logs.

The secret travels in the link's path (``/invitations/<secret>/``). The view moves
it into the session at once, but Django's request and development-server loggers
would still print the path; this filter masks it in every record they emit.
"""

from __future__ import annotations

import logging
import re

_SECRET_PATH = re.compile(r"/invitations/(?!accept/)[^/\s\"?]+")
MASK = "/invitations/<secret>"
# shipcheck.request: the one line per request of core/observability.py (its ``path`` too).
LOGGERS = (
    "django.request",
    "django.server",
    "gunicorn.access",
    "gunicorn.error",
    "shipcheck.request",
)


class InvitationSecretFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is logged as it is
            return True
        if "/invitations/" in message:
            record.msg = _SECRET_PATH.sub(MASK, message)
            record.args = ()
        path = getattr(record, "path", None)
        if isinstance(path, str) and "/invitations/" in path:
            record.path = _SECRET_PATH.sub(MASK, path)
        return True


def install() -> None:
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, InvitationSecretFilter) for f in logger.filters):
            logger.addFilter(InvitationSecretFilter())
