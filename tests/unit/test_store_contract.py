"""One contract for the Redis-backed stores, run against the embedded Redis (`memory://`,
fakeredis with Lua) and the real Redis: executions, approvals, follow-ups, flags and their
leases, and the work queue must behave the same on both (the Quick start runs on the first,
production on the second)."""

from __future__ import annotations

import time

import msgspec
from redis.asyncio import Redis

from app.actions.flags import FlagStore
from app.engine.approvals import ApprovalStore
from app.engine.executions import ExecutionStore
from app.engine.followups import FollowUps
from app.engine.lanes import HIGH, NORMAL, LanePolicy
from app.engine.queue import AlertQueue, QueueFull
from app.keys import GROUP, Keys
from app.models import ActionRecord, Execution
from tests.unit.conftest import make_alert

NOW_MS = 1_800_000_000_000


def _execution(ex_id: str, playbook: str = "pb", status: str = "succeeded") -> Execution:
    return Execution(
        id=ex_id,
        playbook=playbook,
        source="alertmanager",
        alert=make_alert(),
        status=status,  # type: ignore[arg-type]
        started_at=time.time(),
    )


# -- executions -------------------------------------------------------------------------------


async def test_executions_round_trip_and_replay(store_redis: Redis, ns: str) -> None:
    store = ExecutionStore(store_redis, Keys(ns), max_len=100, ttl_s=60)
    running = _execution("ex-abc", status="running")
    await store.start(running)
    assert await store.get("ex-abc") == running
    record = ActionRecord(index=0, kind="flags.set", target="x", status="ok")
    await store.complete_action("ex-abc", record)
    await store_redis.set(f"{ns}paused", "true")
    existing, completed, paused = await store.prior("ex-abc", f"{ns}paused")
    assert existing == running and completed == {0: record} and paused is True
    assert await store.prior("ex-none", f"{ns}missing") == (None, {}, False)


async def test_executions_recent_filters_newest_first(store_redis: Redis, ns: str) -> None:
    store = ExecutionStore(store_redis, Keys(ns), max_len=100, ttl_s=60)
    for i, (playbook, status) in enumerate([("a", "succeeded"), ("b", "failed"), ("a", "failed")]):
        await store.finish(_execution(f"ex-{i}", playbook, status))
    assert [e.id for e in await store.recent()] == ["ex-2", "ex-1", "ex-0"]
    assert [e.id for e in await store.recent(playbook="a")] == ["ex-2", "ex-0"]
    assert [e.id for e in await store.recent(status="failed", limit=1)] == ["ex-2"]
    assert [e.id for e in await store.recent(offset=1, limit=1)] == ["ex-1"]
    assert await store.get("ex-0:actions") is None  # not an id: no key read


async def test_direct_records_are_finished_executions(store_redis: Redis, ns: str) -> None:
    store = ExecutionStore(store_redis, Keys(ns), max_len=100, ttl_s=60)
    action = ActionRecord(index=0, kind="flags.revert", target="f", status="ok", started_at=5.0)
    execution = await store.record_direct("autonomic.revert", "manual", make_alert(), [action], actor="alice")
    assert execution.id.startswith("ex-revert-") and execution.started_at == 5.0
    assert await store.get(execution.id) == execution
    assert [e.id for e in await store.recent()] == [execution.id]


# -- approvals --------------------------------------------------------------------------------


async def test_approval_parks_then_decision_requeues_once(store_redis: Redis, ns: str) -> None:
    keys = Keys(ns)
    store = ApprovalStore(store_redis, keys, timeout_s=600)
    fields = {"k": "event", "a": "{}", "tp": "", "run": "pb"}
    first = await store.request(
        execution_id="ex-1", playbook="pb", index=2, description="restart", alertname="A", fields=fields
    )
    again = await store.request(
        execution_id="ex-1", playbook="pb", index=2, description="restart", alertname="A", fields=fields
    )
    assert again.deadline == first.deadline  # idempotent: the first deadline stands
    assert [p.execution_id for p in await store.pending()] == ["ex-1"]
    assert await store.decide("ex-1", "approve", "alice", "ok") is not None
    assert await store.decide("ex-1", "reject", "bob") is None  # decided already
    assert await store.pending() == []
    decision = await store.decision("ex-1", 2)
    assert decision is not None and (decision["decision"], decision["by"]) == ("approve", "alice")
    requeued = await store_redis.xrange(keys.lane(HIGH))
    assert [f for _, f in requeued] == [fields]


async def test_approvals_past_their_deadline_are_rejected(store_redis: Redis, ns: str) -> None:
    store = ApprovalStore(store_redis, Keys(ns), timeout_s=0)
    await store.request(
        execution_id="ex-2", playbook="pb", index=0, description="d", alertname="A", fields={"k": "e"}
    )
    assert await store.expire_due() == 1
    decision = await store.decision("ex-2", 0)
    assert decision is not None and (decision["decision"], decision["by"]) == ("reject", "timeout")
    assert await store.get("ex-2") is None
    assert await store.get("not-an-id") is None


# -- follow-ups -------------------------------------------------------------------------------


async def test_followups_release_due_once_and_cancel(store_redis: Redis, ns: str) -> None:
    keys = Keys(ns)
    followups = FollowUps(store_redis, keys)
    alert = make_alert(fingerprint="fpA")
    # Due a second ago: the release script compares with Redis's clock in whole seconds.
    await followups.schedule("now", "page", alert, -1)
    await followups.schedule("now", "other", alert, -1)  # same key: a no-op on the due time
    await followups.schedule("later", "page", alert, 3600)
    assert await followups.release_due() == 1
    assert await followups.release_due() == 0
    ((_, fields),) = await store_redis.xrange(keys.lane(HIGH))
    assert fields["k"] == "followup:now" and fields["run"] in ("page", "other")
    assert msgspec.json.decode(fields["a"])["fingerprint"] == "fpA"
    assert await followups.cancel("fpA") == 1  # "later" was still pending
    assert await followups.cancel("fpA") == 0
    assert await store_redis.zcard(keys.followups) == 0


# -- flags and leases -------------------------------------------------------------------------


async def test_flag_leases_hold_the_value_until_the_last_release(store_redis: Redis, ns: str) -> None:
    flags = FlagStore(store_redis, prefix=f"{ns}flags:", namespace=ns, grace_s=0)
    await store_redis.set(f"{ns}flags:llm.mode", "full")  # the baseline
    one = await flags.set("llm.mode", "cheap", ttl_s=60, holder="alert:a", now_ms=NOW_MS)
    two = await flags.set("llm.mode", "cheap", ttl_s=120, holder="alert:b", now_ms=NOW_MS)
    assert one.applied and one.value == "cheap" and one.expires_at_ms == NOW_MS + 60_000
    assert two.applied and await flags.get("llm.mode") == "cheap"
    assert await flags.held_by("alert:a") == {"llm.mode"}
    (state,) = await flags.active()
    assert state.baseline == "full" and {lease.holder for lease in state.leases} == {"alert:a", "alert:b"}
    assert await flags.release("llm.mode", "alert:a", now_ms=NOW_MS) == "cheap"
    assert await flags.release("llm.mode", "alert:b", now_ms=NOW_MS) == "full"
    assert await flags.get("llm.mode") == "full"


async def test_flag_tombstone_refuses_and_sweep_ends_expired(store_redis: Redis, ns: str) -> None:
    flags = FlagStore(store_redis, prefix=f"{ns}flags:", namespace=ns, grace_s=0)
    tombstone = f"{ns}resolved:fp:ep"
    await store_redis.set(tombstone, "1")
    refused = await flags.set("a.flag", "on", ttl_s=60, holder="alert:fp", tombstone=tombstone, now_ms=NOW_MS)
    assert not refused.applied and refused.refused_reason
    assert await flags.get("a.flag") is None
    await flags.set("b.flag", "on", ttl_s=1, holder="alert:x", now_ms=NOW_MS)
    assert await flags.sweep(now_ms=NOW_MS + 500) == {}
    assert await flags.sweep(now_ms=NOW_MS + 5_000) == {"b.flag": None}
    assert await flags.get("b.flag") is None and await flags.active() == []


async def test_revert_ends_every_lease(store_redis: Redis, ns: str) -> None:
    flags = FlagStore(store_redis, prefix=f"{ns}flags:", namespace=ns, grace_s=0)
    for holder in ("alert:a", "alert:b"):
        await flags.set("c.flag", "on", ttl_s=60, holder=holder, now_ms=NOW_MS)
    assert await flags.revert("c.flag", "alice", now_ms=NOW_MS) == (2, None)
    assert await store_redis.sismember(f"{ns}reverted", "alert:a")


# -- queue ------------------------------------------------------------------------------------


def _queue(redis: Redis, ns: str, max_len: int = 100) -> AlertQueue:
    return AlertQueue(redis, Keys(ns), max_len=max_len, dedup_ttl_s=60, lanes=LanePolicy(share=2))


async def test_queue_dedups_and_reads_high_lane_first(store_redis: Redis, ns: str) -> None:
    queue = _queue(store_redis, ns)
    await queue.ensure_group()
    items = [("n1", "{}", "", "+a", NORMAL), ("h1", "{}", "tp", "+b", HIGH)]
    assert await queue.enqueue(items) == (2, 0)
    assert await queue.enqueue(items) == (0, 2)
    (high,) = await queue.read("c1", 1, 10)
    assert (high.key, high.lane, high.traceparent) == ("h1", HIGH, "tp")
    (normal,) = await queue.read("c1", 1, 10)
    assert normal.key == "n1"
    assert await queue.read("c1", 1, 10) == []
    depth = await queue.depth()
    assert (depth.lag, depth.pending) == (0, 2)
    await queue.ack(high)
    await queue.ack(normal)
    await queue.trim_acknowledged()
    assert await store_redis.xlen(Keys(ns).lane(HIGH)) == 0
    assert (await queue.depth()).pending == 0


async def test_queue_claims_stale_entries_and_hands_back(store_redis: Redis, ns: str) -> None:
    keys = Keys(ns)
    queue = _queue(store_redis, ns)
    await queue.ensure_group()
    await queue.push({"k": "manual", "a": "{}", "tp": "", "run": "pb"})
    (entry,) = await queue.read("dead", 1, 10)
    (claimed,) = await queue.claim_stale("alive", 0, 10)
    assert (claimed.id, claimed.run, claimed.deliveries) == (entry.id, "pb", 2)
    await queue.hand_back(claimed)
    assert (await store_redis.xpending(keys.lane(HIGH), GROUP))["pending"] == 0
    (again,) = await queue.read("alive", 1, 10)
    assert again.key == "manual" and again.id != entry.id
    await queue.dead_letter(again, "boom", playbook="pb")
    ((_, fields),) = await store_redis.xrange(keys.dead)
    assert (fields["reason"], fields["playbook"], fields["lane"], fields["id"]) == (
        "boom",
        "pb",
        HIGH,
        again.id,
    )


async def test_queue_refuses_past_its_cap(store_redis: Redis, ns: str) -> None:
    queue = _queue(store_redis, ns, max_len=1)
    await queue.ensure_group()
    assert await queue.enqueue([("a", "{}", "", "+a", NORMAL)]) == (1, 0)
    try:
        await queue.enqueue([("b", "{}", "", "+b", NORMAL)])
    except QueueFull:
        pass
    else:
        raise AssertionError("a full queue accepted an alert")
