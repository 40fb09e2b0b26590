"""The core loop through HTTP on a real service process and real Redis."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import redis

from tests.conftest import NAMED_OPERATOR_TOKENS, NAMED_OPERATORS, bearer
from tests.integration.helpers import OPERATOR, alert, executions, flags, payload, post, resolved
from tests.support.procs import Service, wait_for

COST_FLAGS = {"llm.model_tier": "economy", "cache.mode": "aggressive", "ratelimit.factor": "0.5"}


def flag_values(sync_redis: redis.Redis, prefix: str) -> dict[str, str | None]:
    return {name: sync_redis.get(prefix + name) for name in COST_FLAGS}  # type: ignore[misc]


def test_cost_spike_sets_flags_and_resolve_restores_them(
    start_service: Callable[..., Service], sync_redis: redis.Redis, flag_prefix: str
) -> None:
    sync_redis.set(flag_prefix + "cache.mode", "normal")  # an existing baseline
    svc = start_service()
    firing = alert("CostSpike", severity="warning")
    response = post(svc.url, payload(firing))
    assert response.status_code == 202, response.text
    assert response.json() == {"accepted": 1, "duplicates": 0}

    wait_for(lambda: flag_values(sync_redis, flag_prefix) == COST_FLAGS, what="cost flags set")
    active = flags(svc.url)
    assert active["cache.mode"]["baseline"] == "normal"
    assert active["llm.model_tier"]["baseline_absent"] is True
    assert active["llm.model_tier"]["leases"][0]["holder"] == f"alert:{firing['fingerprint']}"

    (execution,) = wait_for(lambda: executions(svc.url, playbook="cost_spike"), what="execution")
    assert execution["status"] == "succeeded"
    assert [a["kind"] for a in execution["actions"]] == ["flags.set"] * 3 + ["slack.post"]
    assert execution["actions"][3]["status"] == "dry_run"  # Slack is not configured
    assert execution["alert"]["fingerprint"] == firing["fingerprint"]
    one = httpx.get(f"{svc.url}/api/executions/{execution['id']}", headers=OPERATOR).json()
    assert one["id"] == execution["id"]

    assert post(svc.url, payload(resolved(firing))).json() == {"accepted": 1, "duplicates": 0}
    expected = {"llm.model_tier": None, "cache.mode": "normal", "ratelimit.factor": None}
    wait_for(lambda: flag_values(sync_redis, flag_prefix) == expected, what="flags restored")
    assert flags(svc.url) == {}
    (release,) = wait_for(lambda: executions(svc.url, playbook="autonomic.resolve"), what="resolve record")
    (release_all,) = release["actions"]  # no incident, no Slack thread: only the leases
    assert release_all["kind"] == "flags.release_all"
    assert release_all["result"]["released"] == expected


def test_two_replicas_share_one_redis(
    start_service: Callable[..., Service], sync_redis: redis.Redis, flag_prefix: str
) -> None:
    a, b = start_service(name="a"), start_service(name="b")
    firing = alert("CostSpike")
    assert post(a.url, payload(firing)).status_code == 202
    assert post(b.url, payload(firing)).json() == {"accepted": 0, "duplicates": 1}
    wait_for(lambda: flag_values(sync_redis, flag_prefix) == COST_FLAGS, what="flags set via replica a")
    assert post(b.url, payload(resolved(firing))).json()["accepted"] == 1
    wait_for(
        lambda: all(v is None for v in flag_values(sync_redis, flag_prefix).values()),
        what="flags restored via replica b",
    )
    assert len(executions(a.url, playbook="cost_spike")) == 1


def test_two_alerts_hold_one_flag_until_both_resolve(
    start_service: Callable[..., Service], sync_redis: redis.Redis, flag_prefix: str
) -> None:
    svc = start_service()
    first, second = alert("CostSpike", model="gpt"), alert("DailyCostExceeded")
    post(svc.url, payload(first, second))
    wait_for(lambda: len(flags(svc.url).get("llm.model_tier", {}).get("leases", [])) == 2, what="two leases")
    post(svc.url, payload(resolved(second)))
    wait_for(lambda: len(flags(svc.url)["llm.model_tier"]["leases"]) == 1, what="one lease left")
    assert sync_redis.get(flag_prefix + "llm.model_tier") == "economy"
    post(svc.url, payload(resolved(first)))
    wait_for(lambda: sync_redis.get(flag_prefix + "llm.model_tier") is None, what="tier restored")


def test_user_budget_sets_a_per_user_flag(
    start_service: Callable[..., Service], sync_redis: redis.Redis, flag_prefix: str
) -> None:
    svc = start_service()
    post(svc.url, payload(alert("UserBudgetExceeded", user_id="u-42")))
    wait_for(lambda: sync_redis.get(flag_prefix + "ratelimit.user.u-42") == "0.1", what="user flag")
    (execution,) = executions(svc.url, playbook="user_budget_exceeded")
    assert [(a["kind"], a["status"]) for a in execution["actions"]] == [
        ("flags.set", "ok"),
        ("notify.user", "dry_run"),
    ]


def test_global_dry_run_records_but_changes_nothing(
    start_service: Callable[..., Service], sync_redis: redis.Redis, flag_prefix: str
) -> None:
    svc = start_service(AUTONOMIC_DRY_RUN="true")
    post(svc.url, payload(alert("CostSpike")))
    (execution,) = wait_for(lambda: executions(svc.url, playbook="cost_spike"), what="execution")
    assert execution["dry_run"] is True
    assert {a["status"] for a in execution["actions"]} == {"dry_run"}
    assert all(v is None for v in flag_values(sync_redis, flag_prefix).values())


def test_raw_kill_switch_flag_refuses_the_run_and_takes_no_cooldown(
    start_service: Callable[..., Service], sync_redis: redis.Redis, flag_prefix: str, ns: str
) -> None:
    sync_redis.set(flag_prefix + "autonomic.paused", "true")  # the raw flag, as a script sets it
    svc = start_service()
    post(svc.url, payload(alert("CostSpike")))
    (execution,) = wait_for(lambda: executions(svc.url, playbook="cost_spike"), what="execution")
    assert execution["status"] == "refused"
    assert {a["status"] for a in execution["actions"]} == {"refused"}
    assert {a["reason"] for a in execution["actions"]} == {"autonomic.paused is set"}
    assert all(v is None for v in flag_values(sync_redis, flag_prefix).values())
    assert not sync_redis.keys(f"{ns}cooldown:*")  # a refused run takes no cooldown slot


def test_a_second_episode_inside_the_cooldown_takes_its_flags_but_skips_events(
    start_service: Callable[..., Service], sync_redis: redis.Redis, flag_prefix: str
) -> None:
    svc = start_service()
    first = alert("CostSpike", fingerprint="f1", starts_at="2026-11-26T10:00:00Z")
    post(svc.url, payload(first))
    wait_for(lambda: executions(svc.url, playbook="cost_spike"), what="first run")
    post(svc.url, payload(resolved(first)))
    wait_for(lambda: flag_values(sync_redis, flag_prefix)["llm.model_tier"] is None, what="released")
    post(svc.url, payload(alert("CostSpike", fingerprint="f1", starts_at="2026-11-26T10:05:00Z")))
    runs = wait_for(
        lambda: (r := executions(svc.url, playbook="cost_spike")) and len(r) == 2 and r, what="2 runs"
    )
    assert [r["status"] for r in runs] == ["succeeded", "succeeded"]
    second, first_run = runs  # newest first
    assert first_run["skipped_reason"] is None
    assert second["skipped_reason"] == "cooldown 900s: events skipped, flag leases applied"
    assert [(a["kind"], a["status"]) for a in second["actions"]] == [
        ("flags.set", "ok"),
        ("flags.set", "ok"),
        ("flags.set", "ok"),
        ("slack.post", "skipped"),
    ]
    assert flag_values(sync_redis, flag_prefix) == COST_FLAGS  # the second episode is mitigated


def test_simulate_plans_without_changing_anything(
    start_service: Callable[..., Service], sync_redis: redis.Redis, flag_prefix: str
) -> None:
    svc = start_service()
    body = payload(alert("CostSpike"), alert("NobodyHandlesThis"))
    response = httpx.post(f"{svc.url}/api/alerts/simulate", json=body, headers=OPERATOR)
    assert response.status_code == 200, response.text
    plans = response.json()["alerts"]
    assert [p["alertname"] for p in plans] == ["CostSpike", "NobodyHandlesThis"]
    (cost,) = plans[0]["playbooks"]
    assert cost["playbook"] == "cost_spike" and cost["would_run"] is True
    assert [(a["kind"], a["target"], a["status"]) for a in cost["actions"]][:3] == [
        ("flags.set", "llm.model_tier", "dry_run"),
        ("flags.set", "cache.mode", "dry_run"),
        ("flags.set", "ratelimit.factor", "dry_run"),
    ]
    assert plans[1]["playbooks"] == []
    assert all(v is None for v in flag_values(sync_redis, flag_prefix).values())
    assert executions(svc.url) == []


def test_operator_reverts_a_flag(
    start_service: Callable[..., Service], sync_redis: redis.Redis, flag_prefix: str
) -> None:
    svc = start_service(AUTONOMIC_OPERATOR_TOKENS=NAMED_OPERATOR_TOKENS)
    post(svc.url, payload(alert("CostSpike")))
    wait_for(lambda: sync_redis.get(flag_prefix + "cache.mode") == "aggressive", what="flag set")
    url = f"{svc.url}/api/flags/cache.mode"
    assert (
        httpx.delete(url, headers={"Authorization": "Bearer test-webhook-token-0123456789"}).status_code
        == 403
    )
    response = httpx.delete(url, headers={**bearer(NAMED_OPERATORS["alice"]), "X-Autonomic-Actor": "eve"})
    assert response.status_code == 200, response.text
    assert response.json()["leases_ended"] == 1
    assert sync_redis.get(flag_prefix + "cache.mode") is None
    assert httpx.delete(url, headers=OPERATOR).status_code == 404
    assert httpx.delete(f"{svc.url}/api/flags/Bad:Name", headers=OPERATOR).status_code == 400
    (revert,) = executions(svc.url, playbook="autonomic.revert")
    assert revert["actor"] == "alice"


def test_playbooks_api_lists_builtins(start_service: Callable[..., Service]) -> None:
    svc = start_service()
    listed = httpx.get(f"{svc.url}/api/playbooks", headers=OPERATOR).json()
    by_name = {p["name"]: p for p in listed}
    assert by_name["cost_spike"]["match"] == 'alertname="CostSpike"'
    assert by_name["cost_spike"]["cooldown_s"] == 900
    assert httpx.get(f"{svc.url}/api/playbooks").status_code == 401


def test_health_schema_and_metrics(start_service: Callable[..., Service]) -> None:
    svc = start_service()
    assert httpx.get(f"{svc.url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{svc.url}/readyz").status_code == 200
    schema = httpx.get(f"{svc.url}/schema/openapi.json").json()
    assert "/webhooks/alertmanager" in schema["paths"]
    assert "/api/executions/{execution_id}" in schema["paths"]
    post(svc.url, payload(alert("CostSpike")))
    wait_for(lambda: executions(svc.url), what="execution")
    text = httpx.get(f"{svc.url}/metrics").text
    assert 'autonomic_webhooks_total{code="202"} 1.0' in text
    assert 'autonomic_alerts_total{result="accepted"} 1.0' in text
    assert 'autonomic_executions_total{playbook="cost_spike",status="succeeded"} 1.0' in text
    assert 'autonomic_action_duration_seconds_count{kind="flags.set",status="ok"} 3.0' in text
    assert "autonomic_queue_depth" in text


def test_roles_on_the_api(start_service: Callable[..., Service]) -> None:
    svc = start_service(AUTONOMIC_VIEWER_TOKEN="test-viewer-token-0123456789")
    viewer = {"Authorization": "Bearer test-viewer-token-0123456789"}
    webhook = {"Authorization": "Bearer test-webhook-token-0123456789"}
    for path in ("/api/playbooks", "/api/flags", "/api/executions"):
        assert httpx.get(svc.url + path, headers=viewer).status_code == 200
        assert httpx.get(svc.url + path, headers=webhook).status_code == 403
        assert httpx.get(svc.url + path, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert httpx.delete(svc.url + "/api/flags/cache.mode", headers=viewer).status_code == 403
    assert httpx.get(svc.url + "/api/executions/ex-unknown", headers=viewer).status_code == 404
