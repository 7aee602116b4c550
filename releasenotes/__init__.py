"""Release notes generated from a release's tickets and commits, edited, published as frozen versions, accumulated per environment (docs/release-notes.md)."""
