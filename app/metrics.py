"""The service's own Prometheus metrics (served on /metrics with the HTTP metrics).

Two kinds: counters and histograms of what *this process* did (webhooks, executions,
actions, job runs, leadership), and figures of the *shared state* in Redis (mitigations,
flag changes, last job successes, dead letters, queue), which `StateMetrics` reads at
scrape time so that every replica serves the same values. docs/operations.md has the
reference of every name.
"""

from __future__ import annotations

from functools import cache

from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.registry import Collector


@cache
def counter(metric: Counter, *labels: str) -> Counter:
    """`metric.labels(*labels)`, looked up once: the hot paths count every execution and action
    (prometheus_client takes a lock and builds the key on each `labels` call). Only for
    bounded label values (playbooks, kinds, statuses)."""
    return metric.labels(*labels)


@cache
def histogram(metric: Histogram, *labels: str) -> Histogram:
    """`metric.labels(*labels)`, looked up once (see `counter`)."""
    return metric.labels(*labels)


WEBHOOKS = Counter("autonomic_webhooks_total", "Alertmanager webhook requests by HTTP status.", ["code"])
ALERTS = Counter("autonomic_alerts_total", "Alerts received, by result (accepted or duplicate).", ["result"])
EXECUTIONS = Counter(
    "autonomic_executions_total",
    "Finished playbook executions by playbook and status (succeeded, failed, refused, skipped, "
    "rejected, dry_run).",
    ["playbook", "status"],
)
EXECUTION_DURATION = Histogram(
    "autonomic_execution_duration_seconds",
    "Duration of finished playbook executions (all attempts) by playbook and status.",
    ["playbook", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
ACTIONS = Counter(
    "autonomic_actions_total",
    "Playbook actions by kind and status (ok, dry_run, refused, failed).",
    ["kind", "status"],
)
ACTION_LATENCY = Histogram(
    "autonomic_action_duration_seconds",
    "Duration of playbook actions by kind and status.",
    ["kind", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
AUTH_FAILURES = Counter(
    "autonomic_auth_failures_total",
    "Refused authentications by route and reason (missing, invalid, forbidden, throttled, session).",
    ["route", "reason"],
)
DEAD_LETTERS = Counter("autonomic_dead_letters_total", "Entries moved to the dead-letter stream.")
SCHEDULER_LEADER = Gauge(
    "autonomic_scheduler_leader", "1 on the replica that holds the scheduler lock (runs the jobs), else 0."
)
JOB_RUNS = Counter(
    "autonomic_job_runs_total", "Scheduled-job runs on this replica by job and result.", ["job_id", "result"]
)
JOB_INTERVAL = Gauge(
    "autonomic_job_interval_seconds",
    "Expected time between two runs of a job (its interval, or the cron period); absent when off.",
    ["job_id"],
)
# The kill switch, as issue #12 defines it; set at scrape time from the shared state (web/health.py).
PAUSED = Gauge("autonomic_paused", "1 while the kill switch (autonomic.paused) is on.")
# Incremented by the reconciler (issue #12) with result ok / renewed / resolved / unreachable.
RECONCILE_RUNS = Counter(
    "autonomic_reconcile_runs_total", "Reconciliation passes against Alertmanager by result.", ["result"]
)

# Collectors the runtime registers: the shared state read from Redis at scrape time ("state",
# app/engine/state_metrics.py) and the cost gauges ai_* from the latest snapshot ("cost",
# app/jobs/cost_exporter.py). This module imports neither: it sits below both.
_plugged: dict[str, Collector] = {}


def plug(slot: str, collector: Collector) -> None:
    """Serve `collector` on /metrics in place of the one plugged into `slot` before (a process
    that builds a second runtime, as tests do, serves the newest)."""
    old = _plugged.pop(slot, None)
    if old is not None:
        REGISTRY.unregister(old)
    REGISTRY.register(collector)
    _plugged[slot] = collector
