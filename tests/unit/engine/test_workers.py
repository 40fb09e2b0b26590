"""The worker pool on its own: what is acknowledged, what is dead-lettered, and what a
shutdown hands back to the queue."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec

from app.coalesce import URGENT
from app.engine.lanes import HIGH, NORMAL
from app.engine.queue import Entry
from app.engine.runtime import Runtime
from app.engine.workers import WorkerPool, consumer_name
from app.keys import GROUP
from app.models import Alert
from app.plugins.registry import Registry
from tests.unit.conftest import make_alert
from tests.unit.engine.conftest import spec


def _pool(runtime: Runtime, **options: Any) -> WorkerPool:
    values: dict[str, Any] = {
        "concurrency": 2,
        "claim_idle_s": 30,
        "max_deliveries": 3,
        "shutdown_grace_s": 0,
    }
    return WorkerPool(
        runtime.queue,
        runtime.dispatcher,
        followups=runtime.followups,
        approvals=runtime.approvals,
        **{**values, **options},
    )


async def _queued(runtime: Runtime, alert: Alert, key: str = "event-1") -> Entry:
    await runtime.queue.ensure_group()
    await runtime.queue.enqueue(
        [(key, msgspec.json.encode(alert).decode(), "", "+" + alert.fingerprint, NORMAL)]
    )
    (entry,) = await runtime.queue.read("test", 1, 10)
    return entry


async def _pending(runtime: Runtime, lane: str = NORMAL) -> int:
    return int((await runtime.clients.commands.xpending(runtime.keys.lane(lane), GROUP))["pending"])


def test_consumer_names_are_unique() -> None:
    assert consumer_name() != consumer_name()


async def test_an_entry_is_acknowledged_after_its_executions(runtime: Runtime, registry: Registry) -> None:
    async def pb(alert: Alert, ctx: Any) -> None: ...

    registry.add(spec("pb", pb))
    entry = await _queued(runtime, make_alert())
    await _pool(runtime)._handle(entry)
    assert await _pending(runtime) == 0
    assert [e.status for e in await runtime.executions.recent()] == ["succeeded"]
    assert await runtime.clients.commands.xlen(runtime.keys.dead) == 0


async def test_failed_runs_and_bad_entries_are_dead_lettered(runtime: Runtime, registry: Registry) -> None:
    async def pb(alert: Alert, ctx: Any) -> None:
        raise RuntimeError("bug")

    registry.add(spec("pb", pb))
    pool = _pool(runtime)
    entry = await _queued(runtime, make_alert())
    await pool._handle(entry)
    undecodable = Entry("1-1", "k", '{"status": 3}', "")
    await pool._handle(undecodable)
    too_often = Entry("1-2", "k", "{}", "", deliveries=4)
    await pool._handle(too_often)
    dead = [fields for _, fields in await runtime.clients.commands.xrange(runtime.keys.dead)]
    assert dead[0]["reason"] == "RuntimeError: bug" and dead[0]["playbook"] == "pb"
    assert dead[1]["reason"].startswith("undecodable entry")
    assert dead[2]["reason"] == "delivered 4 times without finishing"
    assert await _pending(runtime) == 0


async def test_shutdown_hands_back_unfinished_work(runtime: Runtime, registry: Registry) -> None:
    started = asyncio.Event()

    async def slow(alert: Alert, ctx: Any) -> None:
        started.set()
        await asyncio.Event().wait()  # never finishes by itself

    registry.add(spec("slow", slow))
    await runtime.queue.ensure_group()
    # A short claim interval: a stop that lands inside a maintenance Redis call waits out
    # the loop's sleep (up to 5 s with the default 30 s claim idle time).
    pool = _pool(runtime, claim_idle_s=0.3)
    await pool.start()
    alert = make_alert()
    await runtime.queue.enqueue([("e", msgspec.json.encode(alert).decode(), "", "+fp1", NORMAL)])
    await asyncio.wait_for(started.wait(), 10)
    await pool.stop()
    # Re-queued as a new entry of its own lane and the old one acknowledged.
    assert await _pending(runtime) == 0
    original, requeued = await runtime.clients.commands.xrange(runtime.keys.lane(NORMAL))
    assert requeued[1] == original[1] and requeued[0] > original[0]
    assert await runtime.clients.commands.xlen(runtime.keys.lane(HIGH)) == 0
    assert await runtime.executions.recent() == []


async def test_entries_of_both_lanes_with_one_stream_id_are_both_tracked(
    runtime: Runtime, registry: Registry
) -> None:
    running: list[str] = []

    async def slow(alert: Alert, ctx: Any) -> None:
        running.append(alert.labels["severity"])
        await asyncio.Event().wait()  # never finishes by itself

    registry.add(spec("slow", slow))
    await runtime.queue.ensure_group()
    pool = _pool(runtime, concurrency=1, high_reserve=1)
    warning, critical = make_alert(severity="warning"), make_alert(fingerprint="fp2", severity="critical")
    # One intake call usually gives both lanes' entries the same id (the same millisecond);
    # that collision is made certain here by adding the entries again under one explicit id.
    await runtime.queue.enqueue(
        [
            ("w", msgspec.json.encode(warning).decode(), "", "+fp1", NORMAL),
            ("c", msgspec.json.encode(critical).decode(), "", "+fp2", HIGH),
        ]
    )
    redis = runtime.clients.commands
    fields = {lane: (await redis.xrange(runtime.keys.lane(lane)))[0][1] for lane in (NORMAL, HIGH)}
    await redis.delete(*(runtime.keys.lane(lane) for lane in (NORMAL, HIGH)))
    await runtime.queue.ensure_group()
    for lane in (NORMAL, HIGH):
        await redis.xadd(runtime.keys.lane(lane), fields[lane], id="5-0")
    (normal,) = await runtime.queue.read_lane(NORMAL, pool.consumer, 1, 10)
    (high,) = await runtime.queue.read_lane(HIGH, pool.consumer, 1, 10)
    assert normal.id == high.id
    # As the shared and the high-lane reader start them, each in its own slot.
    await pool._slots.acquire()
    pool._spawn(normal, pool._slots)
    await pool._high_slots.acquire()
    pool._spawn(high, pool._high_slots)
    while len(running) < 2:
        await asyncio.sleep(0.01)
    await pool.stop()
    # Both were tracked in flight, so both are handed back, each to its own lane.
    for lane in (NORMAL, HIGH):
        assert await _pending(runtime, lane) == 0
        assert len(await runtime.clients.commands.xrange(runtime.keys.lane(lane))) == 2


async def test_high_lane_entries_run_urgent_up_to_the_reserve(runtime: Runtime, registry: Registry) -> None:
    urgent: dict[str, bool] = {}
    hold = asyncio.Event()

    async def pb(alert: Alert, ctx: Any) -> None:
        urgent[alert.fingerprint] = URGENT.get()
        if alert.fingerprint == "fp0":
            await hold.wait()

    registry.add(spec("pb", pb))
    await runtime.queue.ensure_group()
    pool = _pool(runtime, concurrency=3, high_reserve=1)
    alerts = [make_alert(fingerprint=f"fp{i}", severity="critical") for i in range(3)]
    lanes = [HIGH, HIGH, NORMAL]
    items = [
        (f"e{i}", msgspec.json.encode(a).decode(), "", "+" + a.fingerprint, lane)
        for i, (a, lane) in enumerate(zip(alerts, lanes, strict=True))
    ]
    await runtime.queue.enqueue(items)
    first, second = await runtime.queue.read_lane(HIGH, pool.consumer, 2, 10)
    (normal,) = await runtime.queue.read_lane(NORMAL, pool.consumer, 1, 10)
    for _ in range(3):
        await pool._slots.acquire()
    held = asyncio.create_task(pool._process(first, pool._slots))
    while "fp0" not in urgent:  # the first high-lane entry is in its playbook
        await asyncio.sleep(0)
    await pool._process(second, pool._slots)  # the reserve (1) is taken: coalesced
    await pool._process(normal, pool._slots)
    hold.set()
    await held
    assert urgent == {"fp0": True, "fp1": False, "fp2": False}
    assert pool._urgent == 0 and not URGENT.get()
