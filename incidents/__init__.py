"""Incidents tied to releases, status updates, post-mortems with action items, closing a release (docs/incidents.md)."""
