"""Level-triggered mitigations against a real Alertmanager: a flag lease lasts exactly as long
as its alert fires, renewed by repeat notifications or by the reconciler reading Alertmanager's
API, and released when Alertmanager no longer reports the alert (even without a resolved
notification). Short lease TTLs and intervals come from the test playbook `LevelTest`."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import redis

from app.engine.firing import LAPSED, READOPTED, RECONCILED
from tests.conftest import TEST_PLAYBOOKS, WEBHOOK_TOKEN, service_env
from tests.integration.helpers import OPERATOR, alert, executions, payload, post
from tests.support.alertmanager import Alertmanager
from tests.support.fakes import PagerDutyFake
from tests.support.procs import Service, free_port, wait_for

pytestmark = pytest.mark.e2e
LABELS = ("alertname=LevelTest", "service=chat")
QUICK = {
    "AUTONOMIC_PLAYBOOK_DIRS": str(TEST_PLAYBOOKS),
    "AUTONOMIC_JOB_LEASE_SWEEPER": "interval:200ms",
    "AUTONOMIC_LEADER_TTL": "3s",
    "AUTONOMIC_RECONCILE_RESOLVE_AFTER": "1s",
}


class Stack:
    """Services and Alertmanagers of one test, stopped at the end."""

    def __init__(self, ns: str) -> None:
        self.ns = ns
        self.services: list[Service] = []
        self.ams: list[Alertmanager] = []

    def service(self, **env: str) -> Service:
        svc = Service(service_env(self.ns, **{**QUICK, **env}))
        self.services.append(svc)
        return svc

    def alertmanager(self, svc: Service, **options: Any) -> Alertmanager:
        am = Alertmanager(f"{svc.url}/webhooks/alertmanager", WEBHOOK_TOKEN, **options)
        self.ams.append(am)
        return am

    def reconciled(self, *, send_resolved: bool = True, **env: str) -> tuple[Service, Alertmanager]:
        """A service reconciling against its own Alertmanager (which sends it webhooks), both started."""
        svc = self.service(**env)
        am = self.alertmanager(svc, send_resolved=send_resolved)
        svc.env["AUTONOMIC_ALERTMANAGER_URLS"] = am.url
        svc.start()
        am.start()
        return svc, am

    def stop(self) -> None:
        for svc in self.services:
            svc.stop()
        for am in self.ams:
            am.stop()


@pytest.fixture
def stack(ns: str) -> Iterator[Stack]:
    stack = Stack(ns)
    yield stack
    stack.stop()


def holds(check: Callable[[], bool], seconds: float, what: str) -> None:
    """Assert `check` stays true through a window of `seconds` (observed every 100ms)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        assert check(), what
        time.sleep(0.1)


def flag(sync_redis: redis.Redis, flag_prefix: str) -> Any:
    return sync_redis.get(flag_prefix + "level.flag")


def metric(url: str, name: str) -> float:
    """One sample of the service's /metrics (0 when absent)."""
    for line in httpx.get(f"{url}/metrics", timeout=5).text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


def resolves(url: str) -> list[dict[str, Any]]:
    return executions(url, playbook="autonomic.resolve")


@pytest.mark.parametrize(
    ("source", "ttl"),
    [("notifications", "3s"), ("reconciler", "2s")],
)
def test_an_alert_firing_for_four_lease_ttls_keeps_its_flag(
    stack: Stack, sync_redis: redis.Redis, flag_prefix: str, ns: str, source: str, ttl: str
) -> None:
    if source == "notifications":  # no Alertmanager API: repeats every second renew the lease
        svc = stack.service()
        am = stack.alertmanager(svc, repeat_interval="500ms")
    else:  # no repeats within the test: the reconciler's sightings renew the lease
        svc = stack.service(AUTONOMIC_RECONCILE_INTERVAL="500ms")
        am = stack.alertmanager(svc)
        svc.env["AUTONOMIC_ALERTMANAGER_URLS"] = am.url
    svc.start()
    am.start()
    am.fire(*LABELS, f"ttl={ttl}")
    wait_for(lambda: flag(sync_redis, flag_prefix) == "on", timeout=30, what="flag set")
    seconds = float(ttl[:-1])
    holds(lambda: flag(sync_redis, flag_prefix) == "on", 4 * seconds, f"flag kept while firing ({source})")
    (execution,) = wait_for(lambda: executions(svc.url, playbook="level"), what="the run")
    assert execution["status"] == "succeeded"
    assert sync_redis.get(f"{ns}pages:level") == "1"  # the event happened once
    assert resolves(svc.url) == []


def test_without_a_resolved_notification_the_reconciler_restores_the_flag(
    stack: Stack, sync_redis: redis.Redis, flag_prefix: str
) -> None:
    svc, am = stack.reconciled(send_resolved=False, AUTONOMIC_RECONCILE_INTERVAL="500ms")
    am.fire(*LABELS, "ttl=10m")
    wait_for(lambda: flag(sync_redis, flag_prefix) == "on", timeout=30, what="flag set")
    (execution,) = wait_for(lambda: executions(svc.url, playbook="level"), what="the run")
    am.resolve(*LABELS, "ttl=10m", starts_at=execution["alert"]["starts_at"])
    wait_for(lambda: not am.active(), timeout=10, what="Alertmanager no longer reports the alert")
    wait_for(lambda: flag(sync_redis, flag_prefix) is None, timeout=30, what="flag restored by reconciling")
    (release,) = resolves(svc.url)
    assert release["reason"] == RECONCILED
    assert release["source"] == "system"
    assert [a["kind"] for a in release["actions"]] == ["flags.release_all"]
    assert metric(svc.url, 'autonomic_alerts_total{result="accepted"}') == 1  # no resolved webhook came


def test_an_alert_that_resolved_while_autonomic_was_down_is_restored_after_restart(
    stack: Stack, sync_redis: redis.Redis, flag_prefix: str, ns: str
) -> None:
    interval = 1.0
    env = {"AUTONOMIC_RECONCILE_INTERVAL": f"{interval:g}s"}
    first = stack.service(**env)
    am = stack.alertmanager(first, send_resolved=False)
    first.env["AUTONOMIC_ALERTMANAGER_URLS"] = am.url
    first.start()
    am.start()
    am.fire(*LABELS, "ttl=10m")
    wait_for(lambda: flag(sync_redis, flag_prefix) == "on", timeout=30, what="flag set")
    (execution,) = wait_for(lambda: executions(first.url, playbook="level"), what="the run")
    assert first.terminate() in (0, -15)  # uvicorn re-raises SIGTERM after a graceful shutdown

    am.resolve(*LABELS, "ttl=10m", starts_at=execution["alert"]["starts_at"])
    wait_for(lambda: not am.active(), timeout=10, what="resolved in Alertmanager")
    assert flag(sync_redis, flag_prefix) == "on"  # nobody told Autonomic
    second = stack.service(**env, AUTONOMIC_ALERTMANAGER_URLS=am.url)
    second.start()
    # Two passes (one at leadership, one an interval later), then the queued resolve runs.
    wait_for(
        lambda: flag(sync_redis, flag_prefix) is None,
        timeout=2 * interval + 3,
        what="flag restored within two reconcile intervals",
    )
    assert [r["reason"] for r in resolves(second.url)] == [RECONCILED]


def test_leases_that_expired_while_autonomic_was_down_come_back_without_a_second_page(
    stack: Stack, sync_redis: redis.Redis, flag_prefix: str, ns: str
) -> None:
    env = {"AUTONOMIC_RECONCILE_INTERVAL": "500ms", "AUTONOMIC_LEASE_GRACE": "1s"}
    first = stack.service(**env)
    am = stack.alertmanager(first)
    first.env["AUTONOMIC_ALERTMANAGER_URLS"] = am.url
    first.start()
    am.start()
    am.fire(*LABELS, "ttl=2s")
    wait_for(lambda: flag(sync_redis, flag_prefix) == "on", timeout=30, what="flag set")
    assert first.terminate() in (0, -15)
    # The safety net: with nobody renewing, the value key expires (lease TTL + grace).
    wait_for(lambda: flag(sync_redis, flag_prefix) is None, timeout=30, what="flag expired")
    second = stack.service(**env, AUTONOMIC_ALERTMANAGER_URLS=am.url)
    second.start()
    wait_for(lambda: flag(sync_redis, flag_prefix) == "on", timeout=30, what="lease re-applied")
    holds(lambda: flag(sync_redis, flag_prefix) == "on", 4, "and renewed from then on")
    again, _ = executions(second.url, playbook="level")
    assert again["reason"] == LAPSED
    assert [(a["kind"], a["status"]) for a in again["actions"]] == [
        ("flags.set", "ok"),
        ("test.page", "skipped"),
    ]
    assert sync_redis.get(f"{ns}pages:level") == "1"


def test_an_ha_pair_with_one_member_down_still_reconciles(
    stack: Stack, sync_redis: redis.Redis, flag_prefix: str
) -> None:
    svc = stack.service(AUTONOMIC_RECONCILE_INTERVAL="500ms")
    first = stack.alertmanager(svc, send_resolved=False).start()
    second = stack.alertmanager(svc, send_resolved=False, peer=f"127.0.0.1:{first.cluster_port}").start()
    svc.env["AUTONOMIC_ALERTMANAGER_URLS"] = f"{first.url},{second.url}"
    svc.start()
    first.fire(*LABELS, "ttl=10m")
    second.fire(*LABELS, "ttl=10m")
    wait_for(lambda: flag(sync_redis, flag_prefix) == "on", timeout=30, what="flag set")
    (execution,) = wait_for(lambda: executions(svc.url, playbook="level"), what="the run")
    first.stop()  # the first URL now refuses connections
    holds(lambda: flag(sync_redis, flag_prefix) == "on", 2, "still active in the member that answers")
    second.resolve(*LABELS, "ttl=10m", starts_at=execution["alert"]["starts_at"])
    wait_for(lambda: flag(sync_redis, flag_prefix) is None, timeout=30, what="reconciled by the other member")
    assert [r["reason"] for r in resolves(svc.url)] == [RECONCILED]


def test_when_no_alertmanager_answers_nothing_changes(
    stack: Stack, sync_redis: redis.Redis, flag_prefix: str
) -> None:
    svc = stack.service(
        AUTONOMIC_RECONCILE_INTERVAL="200ms",
        AUTONOMIC_ALERTMANAGER_URLS=f"http://127.0.0.1:{free_port()},http://127.0.0.1:{free_port()}",
    ).start()
    assert post(svc.url, payload(alert("LevelTest", ttl="10m"))).status_code == 202
    wait_for(lambda: flag(sync_redis, flag_prefix) == "on", timeout=30, what="flag set")

    wait_for(
        lambda: metric(svc.url, 'autonomic_reconcile_runs_total{result="unreachable"}') >= 5,
        timeout=30,
        what="five passes without Alertmanager",
    )
    assert flag(sync_redis, flag_prefix) == "on"
    assert resolves(svc.url) == []
    assert svc.logs().count("no Alertmanager answered") == 1  # once per outage, not per pass


def test_a_follow_up_runs_only_while_alertmanager_reports_its_alert(
    stack: Stack, outside_env: dict[str, str], pagerduty: PagerDutyFake, sync_redis: redis.Redis, ns: str
) -> None:
    # Reconciling off: only the follow-up asks Alertmanager.
    svc, am = stack.reconciled(send_resolved=False, **outside_env, AUTONOMIC_RECONCILE_INTERVAL="off")
    am.fire("alertname=HighRequestQueue", "shard=1")
    am.fire("alertname=HighRequestQueue", "shard=2")
    wait_for(lambda: sync_redis.zcard(f"{ns}followups") == 2, timeout=30, what="two follow-ups scheduled")
    runs = executions(svc.url, playbook="high_request_queue")
    gone = next(r["alert"] for r in runs if r["alert"]["labels"]["shard"] == "2")
    am.resolve("alertname=HighRequestQueue", "shard=2", starts_at=gone["starts_at"])
    wait_for(lambda: len(am.active()) == 1, timeout=10, what="shard 2 no longer active")
    for key in sync_redis.zrange(f"{ns}followups", 0, -1):  # due now instead of in ten minutes
        sync_redis.zadd(f"{ns}followups", {key: 0})
    follow_ups = wait_for(
        lambda: (r := executions(svc.url, playbook="page_if_still_firing")) and len(r) == 2 and r,
        timeout=30,
        what="both follow-ups handled",
    )
    by_shard = {r["alert"]["labels"]["shard"]: r for r in follow_ups}
    assert by_shard["1"]["status"] == "succeeded"
    assert by_shard["2"]["status"] == "skipped"
    assert by_shard["2"]["skipped_reason"] == "Alertmanager no longer reports the alert active"
    (page,) = pagerduty.actions("trigger")
    assert page["dedup_key"] == f"autonomic-{by_shard['1']['alert']['fingerprint']}"


def test_memory_redis_works_the_same(stack: Stack) -> None:
    svc, am = stack.reconciled(
        send_resolved=False, AUTONOMIC_REDIS_URL="memory://", AUTONOMIC_RECONCILE_INTERVAL="500ms"
    )

    def leases() -> dict[str, Any]:
        response = httpx.get(f"{svc.url}/api/flags", headers=OPERATOR, timeout=5)
        return {f["name"]: f for f in response.json()}

    am.fire(*LABELS, "ttl=2s")
    wait_for(lambda: "level.flag" in leases(), timeout=30, what="flag set on memory://")
    holds(lambda: leases()["level.flag"]["value"] == "on", 8, "renewed on memory:// too")
    (execution,) = wait_for(lambda: executions(svc.url, playbook="level"), what="the run")

    assert httpx.post(f"{svc.url}/api/pause", json={"reason": "test"}, headers=OPERATOR).status_code == 200
    assert "autonomic.paused" in leases()
    am.fire("alertname=LevelTest", "service=search", "ttl=1h")
    wait_for(
        lambda: any(r["status"] == "refused" for r in executions(svc.url, playbook="level")),
        timeout=30,
        what="refused while paused",
    )
    assert httpx.delete(f"{svc.url}/api/pause", headers=OPERATOR).status_code == 200
    wait_for(
        lambda: any(
            lease["value"] == "on" and lease["expires_at"] - time.time() > 600
            for lease in leases()["level.flag"]["leases"]
        ),
        timeout=30,
        what="re-applied after resume",
    )

    am.resolve(*LABELS, "ttl=2s", starts_at=execution["alert"]["starts_at"])
    search = next(r["alert"] for r in executions(svc.url, playbook="level") if r["status"] == "refused")
    am.resolve("alertname=LevelTest", "service=search", "ttl=1h", starts_at=search["starts_at"])
    wait_for(lambda: "level.flag" not in leases(), timeout=30, what="released by reconciling on memory://")
    assert {r["reason"] for r in resolves(svc.url)} == {RECONCILED}


def test_an_operator_revert_holds_for_the_rest_of_the_episode(
    stack: Stack, sync_redis: redis.Redis, flag_prefix: str, ns: str
) -> None:
    svc, am = stack.reconciled(AUTONOMIC_RECONCILE_INTERVAL="300ms")
    am.fire(*LABELS, "ttl=10m")
    wait_for(lambda: flag(sync_redis, flag_prefix) == "on", timeout=30, what="flag set")
    reverted = httpx.delete(f"{svc.url}/api/flags/level.flag", headers=OPERATOR, timeout=10)
    assert reverted.status_code == 200, reverted.text
    after = time.time()

    def reconciled_since_revert() -> bool:
        jobs = httpx.get(f"{svc.url}/api/jobs", headers=OPERATOR, timeout=5).json()["jobs"]
        last = next(j for j in jobs if j["id"] == "reconciler")["last_run"]
        return bool(last and last["started_at"] > after + 1 and last["result"]["active"] == 1)

    wait_for(reconciled_since_revert, timeout=30, what="reconciler passes after the revert")
    assert flag(sync_redis, flag_prefix) is None  # the alert still fires, the operator's call holds
    (execution,) = wait_for(lambda: executions(svc.url, playbook="level"), what="the run")
    am.resolve(*LABELS, "ttl=10m", starts_at=execution["alert"]["starts_at"])
    wait_for(lambda: sync_redis.hlen(f"{ns}tracked") == 0, timeout=30, what="episode resolved")

    def notifications() -> float:
        return metric(svc.url, 'autonomic_alerts_total{result="accepted"}') + metric(
            svc.url, 'autonomic_alerts_total{result="duplicate"}'
        )

    # Alertmanager's own resolved notification, before the re-fire: a resolve and re-fire inside
    # one group_interval look like no change to Alertmanager, which then notifies nothing.
    wait_for(lambda: notifications() == 2, timeout=30, what="the resolved notification")
    am.fire(*LABELS, "ttl=10m")  # a new episode is mitigated again
    wait_for(lambda: flag(sync_redis, flag_prefix) == "on", timeout=30, what="next episode mitigated")


def test_a_re_fire_alertmanager_does_not_notify_is_adopted_from_its_api(
    stack: Stack, sync_redis: redis.Redis, flag_prefix: str, ns: str
) -> None:
    # With send_resolved: false Alertmanager last notified the alert firing, so its re-fire looks
    # like no change and is not notified before repeat_interval (1h). The reconciler resolved the
    # first episode itself, and picks the second up from the API.
    svc, am = stack.reconciled(send_resolved=False, AUTONOMIC_RECONCILE_INTERVAL="300ms")
    am.fire(*LABELS, "ttl=10m")
    wait_for(lambda: flag(sync_redis, flag_prefix) == "on", timeout=30, what="flag set")
    (first,) = wait_for(lambda: executions(svc.url, playbook="level"), what="the run")
    am.resolve(*LABELS, "ttl=10m", starts_at=first["alert"]["starts_at"])
    wait_for(lambda: flag(sync_redis, flag_prefix) is None, timeout=30, what="reconciled")
    am.fire(*LABELS, "ttl=10m")
    wait_for(lambda: flag(sync_redis, flag_prefix) == "on", timeout=30, what="re-fire adopted")
    second, _ = executions(svc.url, playbook="level")
    assert second["alert"]["starts_at"] != first["alert"]["starts_at"]
    assert [a["status"] for a in second["actions"]] == ["ok", "skipped"]  # inside the cooldown
    assert sync_redis.get(f"{ns}pages:level") == "1"
    assert metric(svc.url, 'autonomic_alerts_total{result="accepted"}') == 1  # one notification


def test_an_alertmanager_restarted_empty_does_not_release_before_resolve_after(
    stack: Stack, sync_redis: redis.Redis, flag_prefix: str, ns: str
) -> None:
    # Prometheus resends a firing alert only after its resend delay (~1m): until then an
    # Alertmanager restarted without its state reports nothing, for many reconcile passes.
    svc, am = stack.reconciled(AUTONOMIC_RECONCILE_INTERVAL="200ms", AUTONOMIC_RECONCILE_RESOLVE_AFTER="1h")
    am.fire(*LABELS, "ttl=10m")
    wait_for(lambda: flag(sync_redis, flag_prefix) == "on", timeout=30, what="flag set")
    (first,) = wait_for(lambda: executions(svc.url, playbook="level"), what="the run")
    am.restart_empty()
    wait_for(
        lambda: int(sync_redis.hget(f"{ns}tracked:absent", first["alert"]["fingerprint"]) or 0) >= 4,
        timeout=30,
        what="four passes without the alert",
    )
    assert flag(sync_redis, flag_prefix) == "on"
    assert resolves(svc.url) == []
    am.fire(*LABELS, "ttl=10m", starts_at=first["alert"]["starts_at"])  # Prometheus' resend
    wait_for(lambda: sync_redis.hlen(f"{ns}tracked:absent") == 0, timeout=30, what="seen again")
    assert flag(sync_redis, flag_prefix) == "on"
    assert len(executions(svc.url, playbook="level")) == 1


def test_a_re_fire_of_the_episode_the_reconciler_resolved_is_mitigated_again(
    stack: Stack, sync_redis: redis.Redis, flag_prefix: str, ns: str
) -> None:
    svc, am = stack.reconciled(AUTONOMIC_RECONCILE_INTERVAL="200ms")
    am.fire(*LABELS, "ttl=10m")
    wait_for(lambda: flag(sync_redis, flag_prefix) == "on", timeout=30, what="flag set")
    (first,) = wait_for(lambda: executions(svc.url, playbook="level"), what="the run")
    am.restart_empty()  # and this time absence outlasts RECONCILE_RESOLVE_AFTER (1s here)
    wait_for(lambda: flag(sync_redis, flag_prefix) is None, timeout=30, what="reconciled")
    am.fire(*LABELS, "ttl=10m", starts_at=first["alert"]["starts_at"])  # the same episode
    wait_for(lambda: flag(sync_redis, flag_prefix) == "on", timeout=30, what="mitigated again")
    again = wait_for(
        lambda: (
            (r := executions(svc.url, playbook="level"))
            and len(r) == 2
            and r[0]["status"] != "running"
            and r[0]
        ),
        what="the re-applied run",
    )
    assert again["reason"] == READOPTED
    # The same episode (amtool rounds startsAt to the millisecond, Prometheus would not).
    assert again["alert"]["starts_at"][:23] == first["alert"]["starts_at"][:23]
    assert [a["status"] for a in again["actions"]] == ["ok", "skipped"]  # inside the cooldown
    assert sync_redis.get(f"{ns}pages:level") == "1"
    # The episode's next resolve (Alertmanager's, or the reconciler's, whichever comes first) is
    # a new event, not a duplicate of the reconciler's first one: it releases the flag again.
    am.resolve(*LABELS, "ttl=10m", starts_at=first["alert"]["starts_at"])
    wait_for(lambda: flag(sync_redis, flag_prefix) is None, timeout=30, what="released by the resolve")
