"""HTTP surface: the Alertmanager webhook, the operator API, health and metrics."""
