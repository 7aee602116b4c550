"""Release notes from tickets and commits, subscribers and channels, the delivery outbox (docs/notifications.md, docs/release-notes.md)."""
