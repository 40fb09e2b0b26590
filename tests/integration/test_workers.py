"""Workers: crash recovery, retries, dead letters, timeouts, sync playbooks, graceful shutdown."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import redis

from tests.integration.helpers import alert, executions, payload, post
from tests.support.procs import Service, wait_for


@pytest.fixture
def start(start_service: Callable[..., Service], test_playbooks: Path) -> Callable[..., Service]:
    def start_with_test_playbooks(**env: str) -> Service:
        return start_service(AUTONOMIC_PLAYBOOK_DIRS=str(test_playbooks), **env)

    return start_with_test_playbooks


def test_killed_worker_execution_completes_exactly_once(
    start: Callable[..., Service], sync_redis: redis.Redis, ns: str
) -> None:
    a = start(name="a")
    post(a.url, payload(alert("CrashTest")))
    wait_for(lambda: sync_redis.get(f"{ns}midway"), what="playbook midway")
    a.kill()  # SIGKILL mid-execution: the entry stays pending under a dead consumer

    b = start(name="b")  # claims the entry once it has been idle for AUTONOMIC_CLAIM_IDLE (1s)
    sync_redis.set(f"{ns}release", "1")
    (execution,) = wait_for(lambda: executions(b.url, playbook="crash_midway"), what="reclaimed execution")
    assert execution["status"] == "succeeded"
    assert sync_redis.get(f"{ns}effects:first") == "1"  # not repeated by the second replica
    assert sync_redis.get(f"{ns}effects:second") == "1"
    assert [a["target"] for a in execution["actions"]] == ["first", "crash.flag", "second"]
    assert sync_redis.xlen(f"{ns}executions") == 1
    assert sync_redis.xpending(f"{ns}alerts", "workers")["pending"] == 0


def test_temporary_errors_are_retried_without_repeating_effects(
    start: Callable[..., Service], sync_redis: redis.Redis, ns: str
) -> None:
    svc = start(AUTONOMIC_RETRY_BASE_DELAY="10ms")
    post(svc.url, payload(alert("FlakyTest")))
    (execution,) = wait_for(lambda: executions(svc.url, playbook="flaky"), what="flaky execution")
    assert execution["status"] == "succeeded"
    assert execution["attempts"] == 3
    assert sync_redis.get(f"{ns}effects:before") == "1"
    assert sync_redis.get(f"{ns}flags:flaky.flag") == "done"


def test_last_failed_try_goes_to_the_dead_letter_stream(
    start: Callable[..., Service], sync_redis: redis.Redis, ns: str
) -> None:
    svc = start(AUTONOMIC_RETRY_BASE_DELAY="10ms", AUTONOMIC_MAX_ATTEMPTS="2")
    post(svc.url, payload(alert("FailTest"), alert("SlowTest"), alert("CostSpike")))
    runs = wait_for(lambda: (r := executions(svc.url)) and len(r) == 3 and r, what="three executions")
    by_playbook = {r["playbook"]: r for r in runs}
    assert by_playbook["always_fails"]["status"] == "failed"
    assert by_playbook["always_fails"]["error"] == "cannot mitigate this"
    assert by_playbook["always_fails"]["attempts"] == 1  # PermanentError is not retried
    assert by_playbook["too_slow"]["status"] == "failed"
    assert by_playbook["too_slow"]["error"] == "playbook timed out after 0.2s"
    assert by_playbook["too_slow"]["attempts"] == 2
    assert by_playbook["cost_spike"]["status"] == "succeeded"  # others unaffected
    dead = wait_for(lambda: sync_redis.xrange(f"{ns}dead"), what="dead letters")
    assert sorted(fields["playbook"] for _, fields in dead) == ["always_fails", "too_slow"]
    assert sync_redis.xpending(f"{ns}alerts", "workers")["pending"] == 0


def test_sync_playbook_runs_in_a_thread(
    start: Callable[..., Service], sync_redis: redis.Redis, ns: str
) -> None:
    svc = start()
    post(svc.url, payload(alert("SyncTest", value="threaded")))
    wait_for(lambda: sync_redis.get(f"{ns}flags:sync.flag") == "threaded", what="flag from sync playbook")
    (execution,) = wait_for(lambda: executions(svc.url, playbook="sync_playbook"), what="execution")
    assert execution["status"] == "succeeded"


def test_sigterm_hands_back_unfinished_work(
    start: Callable[..., Service], sync_redis: redis.Redis, ns: str
) -> None:
    a = start(AUTONOMIC_SHUTDOWN_GRACE="0.3s", AUTONOMIC_CLAIM_IDLE="1h")
    post(a.url, payload(alert("HoldTest")))
    wait_for(lambda: sync_redis.get(f"{ns}hold:started") == "1", what="playbook holding")
    assert a.terminate() in (0, -15)  # uvicorn re-raises SIGTERM after a graceful shutdown
    assert "handed back unfinished entry" in a.logs()
    # With a 1h claim timeout only the hand-back can explain a prompt second run.
    b = start(AUTONOMIC_CLAIM_IDLE="1h")
    wait_for(lambda: sync_redis.get(f"{ns}hold:started") == "2", what="second replica took over")
    sync_redis.set(f"{ns}release", "1")
    (execution,) = wait_for(lambda: executions(b.url, playbook="hold"), what="finished")
    assert execution["status"] == "succeeded"
    assert sync_redis.get(f"{ns}effects:after-hold") == "1"


def test_poison_entry_is_dead_lettered_after_max_deliveries(
    start: Callable[..., Service], sync_redis: redis.Redis, ns: str
) -> None:
    sync_redis.xgroup_create(f"{ns}alerts", "workers", id="0", mkstream=True)
    entry = sync_redis.xadd(f"{ns}alerts", {"k": "poison", "a": "{}", "tp": ""})
    # Two earlier deliveries, to consumers that died before acknowledging.
    sync_redis.xreadgroup("workers", "ghost-1", {f"{ns}alerts": ">"})
    sync_redis.xclaim(f"{ns}alerts", "workers", "ghost-2", 0, [entry])
    start(AUTONOMIC_MAX_DELIVERIES="2")
    dead = wait_for(lambda: sync_redis.xrange(f"{ns}dead"), what="dead letter")
    assert dead[0][1]["id"] == entry
    assert "delivered 3 times" in dead[0][1]["reason"]


def test_intake_answers_503_while_execution_is_saturated_and_no_turn_is_free(
    start: Callable[..., Service], sync_redis: redis.Redis, ns: str
) -> None:
    # One worker slot, held by a playbook waiting for `release`; no webhook turns while saturated.
    svc = start(AUTONOMIC_WORKERS="1", AUTONOMIC_INTAKE_BUSY_PERMITS="0")
    assert post(svc.url, payload(alert("CrashTest"))).status_code == 202
    wait_for(lambda: sync_redis.get(f"{ns}midway"), what="playbook midway")
    refused = post(svc.url, payload(alert("SyncTest")))
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "5"
    assert "execution is saturated" in refused.text
    # A critical alert (high lane) never waits for a turn.
    assert post(svc.url, payload(alert("SyncTest", severity="critical"))).status_code == 202
    sync_redis.set(f"{ns}release", "1")  # the slot frees: intake takes webhooks again
    wait_for(lambda: post(svc.url, payload(alert("SyncTest"))).status_code == 202, what="accepted again")
    wait_for(lambda: executions(svc.url, playbook="crash_midway"), what="the held execution finished")
