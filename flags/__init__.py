"""Feature flags, gradual rollout plans gated by monitoring, OFREP and the Unleash client API (docs/flags.md)."""
