"""Content negotiation: an empty ``Accept`` header means "anything", as no header does.

DRF reads ``Accept:`` with no value as a list of no media types and answers 406; HTTP
(RFC 9110, 12.5.1) treats a missing header as ``*/*``, and clients that send an empty one
mean the same.
"""

from __future__ import annotations

from rest_framework.negotiation import DefaultContentNegotiation


class EmptyAcceptMeansAny(DefaultContentNegotiation):
    def get_accept_list(self, request) -> list[str]:
        if not (request.META.get("HTTP_ACCEPT") or "").strip(" ,;"):
            return ["*/*"]
        return super().get_accept_list(request)
