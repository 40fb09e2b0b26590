"""Faults: Redis outage under a real Alertmanager, repeated SIGKILLs, an HA Alertmanager pair,
flapping, and failing outside APIs. Every case asserts what happened at the fakes and in Redis."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import kmock
import redis

from app.engine import queue_entry
from tests.conftest import WEBHOOK_TOKEN
from tests.integration.helpers import alert, executions, payload, post, resolved
from tests.support.alertmanager import Alertmanager
from tests.support.fakes import PagerDutyFake, SlackFake
from tests.support.kube import KubeEmulator, deployment
from tests.support.procs import RedisServer, Service, wait_for


def test_redis_outage_under_alertmanager_loses_nothing(
    start_service: Callable[..., Service], ns: str
) -> None:
    private = RedisServer().start()
    am: Alertmanager | None = None
    try:
        svc = start_service(AUTONOMIC_REDIS_URL=private.url, AUTONOMIC_REDIS_TIMEOUT="0.5")
        am = Alertmanager(f"{svc.url}/webhooks/alertmanager", WEBHOOK_TOKEN).start()
        r = redis.Redis.from_url(private.url, decode_responses=True)
        am.fire("alertname=UserBudgetExceeded", "user_id=before")
        wait_for(lambda: r.get(f"{ns}flags:ratelimit.user.before") == "0.1", timeout=30, what="before outage")

        private.stop()
        users = [f"during{i}" for i in range(5)]
        for user in users:
            am.fire("alertname=UserBudgetExceeded", f"user_id={user}")
        wait_for(lambda: "503" in svc.logs() or "redis unavailable" in svc.logs(), timeout=30, what="503s")
        assert httpx.get(f"{svc.url}/readyz").status_code == 503

        private.start()
        r = redis.Redis.from_url(private.url, decode_responses=True)
        wait_for(
            lambda: all(r.get(f"{ns}flags:ratelimit.user.{u}") == "0.1" for u in users),
            timeout=90,
            what=f"alerts of the outage processed\n{am.logs()[-2000:]}",
        )
        runs = wait_for(
            lambda: (e := executions(svc.url, playbook="user_budget_exceeded")) and len(e) >= 5 and e,
            what="executions",
        )
        per_user = Counter(e["alert"]["labels"]["user_id"] for e in runs)
        assert all(per_user[u] == 1 for u in users)  # every alert of the outage, exactly once
        # "before" may run again: this Redis restarted empty (no persistence), so its dedup
        # marker is gone when Alertmanager re-sends the whole group.
        assert per_user["before"] in (1, 2)
    finally:
        if am is not None:
            am.stop()
        private.stop()


def test_repeated_sigkills_never_page_or_restart_twice(
    start_service: Callable[..., Service],
    outside_env: dict[str, str],
    test_playbooks: Path,
    pagerduty: PagerDutyFake,
    kube: KubeEmulator,
    sync_redis: redis.Redis,
    ns: str,
) -> None:
    kube.add(deployment("chat", "llm"))
    env = {
        **outside_env,
        "AUTONOMIC_PLAYBOOK_DIRS": str(test_playbooks),
        "AUTONOMIC_KUBE_RESTART_BUDGET": "100",
    }
    replicas = [start_service(name=f"r{i}", **env) for i in range(2)]
    alerts = [alert("CrashPage", service=f"s{i}") for i in range(3)]
    for number, item in enumerate(alerts):
        post(replicas[-1].url, payload(item))
        marker = f"{ns}crashpage:{item['fingerprint']}"
        pid = int(wait_for(lambda key=marker: sync_redis.get(key), what="midway"))
        victim = next(s for s in replicas if s.proc is not None and s.proc.pid == pid)
        victim.kill()
        replicas.remove(victim)
        replicas.append(start_service(name=f"replacement{number}", **env))
        sync_redis.delete(marker)
    sync_redis.set(f"{ns}release", "1")
    for item in alerts:
        flag = f"{ns}flags:crashpage.{item['fingerprint']}"
        wait_for(
            lambda key=flag: sync_redis.get(key) == "done",
            timeout=60,
            what="reclaimed execution finished",
        )
    triggers = [e["dedup_key"] for e in pagerduty.actions("trigger")]
    assert sorted(triggers) == sorted(f"autonomic-{a['fingerprint']}" for a in alerts)  # one page each
    assert len(kube.requests("PATCH", "/deployments/chat")) == 3  # one restart each
    runs = executions(replicas[-1].url, playbook="crash_page")
    assert sorted(r["status"] for r in runs) == ["succeeded"] * 3


def test_ha_alertmanager_pair_yields_one_effect(
    start_service: Callable[..., Service],
    outside_env: dict[str, str],
    pagerduty: PagerDutyFake,
    sync_redis: redis.Redis,
    flag_prefix: str,
) -> None:
    svc = start_service(**outside_env)
    first = Alertmanager(f"{svc.url}/webhooks/alertmanager", WEBHOOK_TOKEN).start()
    second = Alertmanager(
        f"{svc.url}/webhooks/alertmanager", WEBHOOK_TOKEN, peer=f"127.0.0.1:{first.cluster_port}"
    ).start()
    try:
        labels = ("alertname=DailyCostExceeded", "severity=critical")
        first.fire(*labels)  # Prometheus sends every alert to both members of the pair
        second.fire(*labels)
        wait_for(
            lambda: sync_redis.get(flag_prefix + "llm.model_tier") == "economy", timeout=30, what="effect"
        )
        wait_for(lambda: "Notify success" in first.logs() + second.logs(), timeout=30, what="both notified")
        runs = wait_for(lambda: executions(svc.url, playbook="daily_cost_exceeded"), what="execution")
        assert len(runs) == 1
        assert len(pagerduty.actions("trigger")) == 1
    finally:
        second.stop()
        first.stop()


def test_flapping_alert_respects_cooldown_budget_and_ends_restored(
    start_service: Callable[..., Service],
    outside_env: dict[str, str],
    kube: KubeEmulator,
    pagerduty: PagerDutyFake,
    sync_redis: redis.Redis,
    flag_prefix: str,
) -> None:
    kube.add(deployment("chat", "llm"))
    svc = start_service(**outside_env)
    base = alert(
        "ServiceDown", severity="critical", namespace="llm", deployment="chat", fingerprint="flap0001"
    )
    for i in range(100):
        episode = {**base, "startsAt": f"2026-11-26T10:{i // 60:02d}:{i % 60:02d}Z"}
        assert post(svc.url, payload(episode)).status_code == 202
        assert post(svc.url, payload(resolved(episode))).status_code == 202
    wait_for(
        lambda: len(executions(svc.url, playbook="service_down", limit=200)) == 100,
        timeout=60,
        what="100 firing executions",
    )
    runs = executions(svc.url, playbook="service_down", limit=200)
    # Every episode takes its flag lease (state); the events run once per 10m cooldown.
    assert {r["status"] for r in runs} == {"succeeded"}
    assert sum(r["skipped_reason"] is None for r in runs) == 1
    assert {r["skipped_reason"] for r in runs} - {None} == {
        "cooldown 600s: events skipped, flag leases applied"
    }
    assert len(kube.requests("PATCH", "/deployments/chat")) == 1  # and so does the restart budget
    assert len(pagerduty.actions("trigger")) == 1
    wait_for(
        lambda: sync_redis.get(flag_prefix + "llm.fallback.enabled") is None, what="flag restored at the end"
    )


def test_failing_apis_are_bounded_recorded_and_isolated(
    start_service: Callable[..., Service],
    outside_env: dict[str, str],
    slack: SlackFake,
    pagerduty: PagerDutyFake,
    kube: KubeEmulator,
    sync_redis: redis.Redis,
    flag_prefix: str,
    ns: str,
) -> None:
    kube.add(deployment("chat", "llm"))
    kube.run(lambda k: k[kmock.method.PATCH, kmock.resource("apps/v1/deployments")] << 403)
    slack.fail_next(1, 429, {"ok": False, "error": "ratelimited"}, Retry_After="1")
    pagerduty.fail_next(100, 500)
    svc = start_service(**outside_env)
    post(
        svc.url,
        payload(
            alert("ServiceDown", severity="critical", namespace="llm", deployment="chat"),
            alert("CostSpike"),
        ),
    )
    runs = wait_for(
        lambda: (r := executions(svc.url)) and len(r) == 2 and r, timeout=60, what="two executions"
    )
    by = {r["playbook"]: r for r in runs}
    down = by["service_down"]
    assert down["status"] == "failed" and "forbidden" in down["error"]
    assert [(a["kind"], a["status"]) for a in down["actions"]] == [
        ("flags.set", "ok"),
        ("kube.restart", "failed"),
    ]
    assert by["cost_spike"]["status"] == "succeeded"  # Slack's 429 was retried after Retry-After
    assert [r["status"] for r in slack.requests] == [429, 200]
    dead = wait_for(lambda: sync_redis.xrange(f"{ns}dead"), what="dead letter")
    assert [fields["playbook"] for _, fields in dead] == ["service_down"]
    assert json.loads(queue_entry.decode(*dead[0]).alert)["labels"]["alertname"] == "ServiceDown"
