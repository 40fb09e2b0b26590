"""/metrics of two replicas on one Redis: what the automation did, and the shared state served
alike by both (mitigations, flag changes, job successes, dead letters, queue, pause), with the
scheduler leader on exactly one of them, before and after it dies. The run also exercises every
metric the dashboards and rules use: each must be served here, or be an llm_* metric listed in
docs/operations.md (the LLM application's own)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import redis
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.helpers import OPERATOR, alert, executions, payload, post, resolved
from tests.support.dashboards import (
    all_dashboard_queries,
    documented_application_metrics,
    metric_names,
    rule_queries,
)
from tests.support.procs import Service, wait_for

Samples = dict[str, dict[frozenset[tuple[str, str]], float]]
SHARED = (
    "autonomic_mitigation_active",
    "autonomic_flag_changes_total",
    "autonomic_job_last_success_timestamp_seconds",
    "autonomic_dead_letter_entries",
    "autonomic_paused",
    "ai_daily_cost_usd",
    "ai_hourly_requests",
)


def scrape(svc: Service) -> Samples:
    out: Samples = {}
    for family in text_string_to_metric_families(httpx.get(f"{svc.url}/metrics", timeout=10).text):
        for sample in family.samples:
            out.setdefault(sample.name, {})[frozenset(sample.labels.items())] = sample.value
    return out


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get(name, {}).get(frozenset(labels.items()))


def total(services: list[Service], name: str, **labels: str) -> float:
    return sum(value(scrape(svc), name, **labels) or 0.0 for svc in services)


def test_metrics_of_the_automation_on_two_replicas(
    start_service: Callable[..., Service],
    test_playbooks: Path,
    sync_redis: redis.Redis,
    ns: str,
    flag_prefix: str,
) -> None:
    now = datetime.now(UTC)
    app = f"{ns}app:"
    sync_redis.mset(
        {
            f"{app}cost:daily:{now:%Y-%m-%d}:user:alice:model:gpt-4o": 1.5,
            f"{app}cost:daily:{now:%Y-%m-%d}:model:gpt-4o": 1.5,
            f"{app}cost:hourly:{now:%Y-%m-%d-%H}": 1.5,
            f"{app}requests:hourly:{now:%Y-%m-%d-%H}:model:gpt-4o:cache_hit:true": 2,
            f"{app}latency:hourly:{now:%Y-%m-%d-%H}:model:gpt-4o": 900,
        }
    )
    env = {
        "AUTONOMIC_PLAYBOOK_DIRS": str(test_playbooks),
        "AUTONOMIC_LEADER_TTL": "1.5s",
        "AUTONOMIC_JOB_LEASE_SWEEPER": "interval:200ms",
        "AUTONOMIC_JOB_COST_EXPORTER": "interval:300ms",
        "AUTONOMIC_JOB_LIFECYCLE": "off",
        "AUTONOMIC_COST_KEY_PREFIX": app,
    }
    a, b = start_service(name="a", **env), start_service(name="b", **env)
    replicas = [a, b]
    wait_for(lambda: total(replicas, "autonomic_scheduler_leader") == 1, what="one leader")

    spike = alert("CostSpike", fingerprint="f" * 16)
    assert post(a.url, payload(spike)).status_code == 202
    assert post(b.url, payload(alert("FailTest"))).status_code == 202
    assert post(a.url, payload(alert("ActionFailTest"))).status_code == 202
    dry = httpx.post(f"{b.url}/api/playbooks/cost_spike/trigger", json={"dry_run": True}, headers=OPERATOR)
    assert dry.status_code == 202
    wait_for(lambda: len(executions(a.url)) >= 4, what="four executions")
    wait_for(lambda: sync_redis.get(flag_prefix + "llm.model_tier") == "economy", what="flags set")
    wait_for(lambda: total(replicas, "autonomic_dead_letters_total") == 1, what="FailTest dead-lettered")

    def shared_state_agrees() -> bool:
        sa, sb = scrape(a), scrape(b)
        return all(sa.get(name) == sb.get(name) for name in SHARED) and bool(sa.get(SHARED[0]))

    wait_for(shared_state_agrees, what="both replicas serve the same shared state")
    s = scrape(a)
    assert value(s, "autonomic_mitigation_active", flag="llm.model_tier") == 1
    assert value(s, "autonomic_mitigation_active", flag="after.failure") == 1
    assert value(s, "autonomic_flag_changes_total", flag="llm.model_tier", reason="set") == 1
    assert value(s, "autonomic_dead_letter_entries") == 1
    assert value(s, "autonomic_paused") == 0
    assert value(s, "autonomic_state_read_ok") == 1
    assert value(s, "ai_daily_cost_usd", user_id="alice", model="gpt-4o") == 1.5
    assert value(s, "ai_hourly_requests", model="gpt-4o", cache_hit="true") == 2
    assert value(s, "ai_avg_response_time_seconds", model="gpt-4o") == 0.45
    assert value(s, "autonomic_job_interval_seconds", job_id="lease_sweeper") == 0.2
    assert value(s, "autonomic_job_last_success_timestamp_seconds", job_id="lease_sweeper")

    # Process counters: each execution counted once, by whichever replica ran it.
    assert total(replicas, "autonomic_executions_total", playbook="cost_spike", status="succeeded") == 1
    assert total(replicas, "autonomic_executions_total", playbook="cost_spike", status="dry_run") == 1
    assert total(replicas, "autonomic_executions_total", playbook="always_fails", status="failed") == 1
    assert (
        total(
            replicas, "autonomic_execution_duration_seconds_count", playbook="cost_spike", status="succeeded"
        )
        == 1
    )
    assert total(replicas, "autonomic_actions_total", kind="flags.set", status="ok") >= 4
    assert total(replicas, "autonomic_actions_total", kind="flags.set", status="dry_run") == 3
    assert total(replicas, "autonomic_actions_total", kind="test.broken", status="failed") == 1
    assert (
        total(replicas, "autonomic_action_duration_seconds_count", kind="test.broken", status="failed") == 1
    )
    assert total(replicas, "autonomic_dead_letters_total") == 1

    # Resolve one mitigation and revert another: both replicas see them end, with the reason.
    assert post(b.url, payload(resolved(spike))).status_code == 202
    assert httpx.delete(f"{a.url}/api/flags/after.failure", headers=OPERATOR).status_code == 200
    sync_redis.set(flag_prefix + "autonomic.paused", "true")
    for svc in replicas:
        wait_for(
            lambda svc=svc: value(scrape(svc), "autonomic_mitigation_active", flag="llm.model_tier") == 0,
            what="mitigation ended",
        )
        s = scrape(svc)
        assert value(s, "autonomic_flag_changes_total", flag="llm.model_tier", reason="released") == 1
        assert value(s, "autonomic_flag_changes_total", flag="after.failure", reason="reverted") == 1
        assert value(s, "autonomic_mitigation_active", flag="after.failure") == 0
        assert value(s, "autonomic_paused") == 1

    # Every metric a dashboard or rule uses is served here (or is the application's own).
    served = set(scrape(a)) | set(scrape(b)) | {"up"}
    documented = documented_application_metrics()
    assert {"llm_requests_total", "llm_request_duration_seconds_bucket"} <= documented  # the table parsed
    for where, expr in all_dashboard_queries() + rule_queries():
        for name in metric_names(expr):
            assert name in served or name in documented, f"{where}: {name} is neither served nor documented"

    # The leader dies: the survivor takes over, still exactly one leader.
    leader, survivor = (a, b) if value(scrape(a), "autonomic_scheduler_leader") == 1 else (b, a)
    leader.kill()
    wait_for(lambda: value(scrape(survivor), "autonomic_scheduler_leader") == 1, timeout=15, what="takeover")
