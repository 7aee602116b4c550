"""The DORA metrics and the release KPIs computed from Shipcheck's own records (docs/metrics.md)."""
