"""Approvals pages, by concern: the release page panel's decisions, the emergency path,
*Waiting for me*, approval policies and go/no-go meetings (``approvals/urls.py`` maps them)."""
