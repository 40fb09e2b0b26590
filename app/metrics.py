"""The service's own Prometheus metrics (served on /metrics with the HTTP metrics)."""

from __future__ import annotations

from prometheus_client import REGISTRY, Counter, Gauge, Histogram

from app.jobs.cost_exporter import SnapshotCollector

WEBHOOKS = Counter("autonomic_webhooks_total", "Alertmanager webhook requests by HTTP status.", ["code"])
ALERTS = Counter("autonomic_alerts_total", "Alerts received, by result (accepted or duplicate).", ["result"])
QUEUE_DEPTH = Gauge(
    "autonomic_queue_depth", "Queued alerts by state (lag: not yet read; pending: in flight).", ["state"]
)
QUEUE_LAG = Gauge("autonomic_queue_lag_seconds", "Age of the oldest unfinished queue entry.")
EXECUTIONS = Counter(
    "autonomic_executions_total",
    "Finished playbook executions by playbook and status.",
    ["playbook", "status"],
)
ACTION_LATENCY = Histogram(
    "autonomic_action_duration_seconds",
    "Duration of playbook actions by kind and status.",
    ["kind", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
DEAD_LETTERS = Counter("autonomic_dead_letters_total", "Entries moved to the dead-letter stream.")

# The cost gauges (ai_*) from the latest snapshot; the runtime plugs its exporter in.
COST = SnapshotCollector(None)
REGISTRY.register(COST)
