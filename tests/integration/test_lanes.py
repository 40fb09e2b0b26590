"""Priority lanes: the high lane is read first, the normal lane is not starved, manual triggers
and follow-ups take the high lane, dedup, hand-back, reclaim and dead letters work per lane,
depth is shown per lane, and a SIGKILLed replica's work in both lanes completes exactly once."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import redis
import redis.asyncio as aioredis

from app.engine import queue_entry
from app.engine.lanes import HIGH, NORMAL, LanePolicy
from app.engine.queue import AlertQueue, Item, seen_mark
from app.keys import Keys
from tests.integration.helpers import OPERATOR, alert, executions, payload, post
from tests.support.procs import Service, wait_for


def _queue(aredis: aioredis.Redis, ns: str, share: int = 4, max_len: int = 1000) -> AlertQueue:
    return AlertQueue(aredis, Keys(ns), max_len=max_len, dedup_ttl_s=60, lanes=LanePolicy(share=share))


def _items(queue: AlertQueue, *severities: str, prefix: str = "e") -> list[Item]:
    out: list[Item] = []
    for i, severity in enumerate(severities):
        labels = {"alertname": "X", "severity": severity}
        lane = queue.lanes.lane(labels)
        body = json.dumps({"n": f"{prefix}{i}", "severity": severity})
        out.append((f"{prefix}{i}", body, "", seen_mark("firing", f"fp-{prefix}{i}"), lane))
    return out


def test_default_mapping_sends_critical_and_page_to_the_high_lane() -> None:
    policy = LanePolicy()
    assert policy.lane({"severity": "critical"}) == HIGH
    assert policy.lane({"severity": "page"}) == HIGH
    assert policy.lane({"severity": "warning"}) == NORMAL
    assert policy.lane({}) == NORMAL
    custom = LanePolicy('team="db", severity!="info"')
    assert custom.lane({"team": "db", "severity": "warning"}) == HIGH
    assert custom.lane({"team": "db", "severity": "critical", "x": "1"}) == HIGH
    assert custom.lane({"team": "web", "severity": "critical"}) == NORMAL
    assert LanePolicy("").lane({"severity": "critical"}) == NORMAL
    with pytest.raises(ValueError, match="at least 2"):
        LanePolicy(share=1)


async def test_high_lane_is_read_before_an_older_normal_backlog(aredis: aioredis.Redis, ns: str) -> None:
    queue = _queue(aredis, ns)
    await queue.ensure_group()
    assert await queue.enqueue(_items(queue, "warning", "warning", "warning", prefix="w")) == (3, 0)
    assert await queue.enqueue(_items(queue, "critical", prefix="c")) == (1, 0)
    first = await queue.read("c1", 1, 10)
    assert [(e.key, e.lane) for e in first] == [("c0", HIGH)]
    rest = await queue.read("c1", 10, 10)
    assert [(e.key, e.lane) for e in rest] == [("w0", NORMAL), ("w1", NORMAL), ("w2", NORMAL)]
    assert await queue.read("c1", 10, 10) == []


async def test_normal_lane_gets_one_read_in_share_while_high_is_busy(aredis: aioredis.Redis, ns: str) -> None:
    queue = _queue(aredis, ns, share=4)
    await queue.ensure_group()
    await queue.enqueue(_items(queue, *["warning"] * 3, prefix="w"))
    await queue.enqueue(_items(queue, *["critical"] * 12, prefix="c"))
    lanes = []
    for _ in range(15):
        (entry,) = await queue.read("c1", 1, 10)
        lanes.append(entry.lane[0])
    assert "".join(lanes) == "hhhn" * 3 + "hhh"


async def test_dedup_holds_across_lanes_and_the_cap_counts_both(aredis: aioredis.Redis, ns: str) -> None:
    queue = _queue(aredis, ns, max_len=10)
    await queue.ensure_group()
    key, body, tp, mark, _ = _items(queue, "warning")[0]
    assert await queue.enqueue([(key, body, tp, mark, NORMAL)]) == (1, 0)
    # The same notification again, whatever lane it maps to now, is a duplicate.
    assert await queue.enqueue([(key, body, tp, mark, HIGH)]) == (0, 1)
    await queue.enqueue(_items(queue, *["critical"] * 5, prefix="c"))
    await queue.enqueue(_items(queue, *["warning"] * 4, prefix="w"))
    depth = await queue.depth()
    assert depth.lanes is not None
    assert (depth.lanes[HIGH].lag, depth.lanes[NORMAL].lag, depth.lag) == (5, 5, 10)
    from app.engine.queue import QueueFull

    with pytest.raises(QueueFull):
        await queue.enqueue(_items(queue, "critical", prefix="x"))


async def test_hand_back_reclaim_and_dead_letter_stay_in_the_entrys_lane(
    aredis: aioredis.Redis, ns: str
) -> None:
    keys = Keys(ns)
    queue = _queue(aredis, ns)
    await queue.ensure_group()
    await queue.enqueue(_items(queue, "warning", prefix="w") + _items(queue, "critical", prefix="c"))
    (high,) = await queue.read("dead-consumer", 1, 10)
    (normal,) = await queue.read("dead-consumer", 1, 10)
    assert (high.lane, normal.lane) == (HIGH, NORMAL)
    # Reclaimed (min idle 0 ms: the consumer is gone), high lane first, lanes kept.
    claimed = await queue.claim_stale("rescuer", 0, 10)
    assert [(e.key, e.lane, e.deliveries) for e in claimed] == [("c0", HIGH, 2), ("w0", NORMAL, 2)]
    # Hand-back re-queues in the same lane and acknowledges the old entry there.
    await queue.hand_back(claimed[0])
    assert await aredis.xpending(keys.lane(HIGH), "workers") == {
        "pending": 0,
        "min": None,
        "max": None,
        "consumers": [],
    }
    (again,) = await queue.read("rescuer", 1, 10)
    assert (again.key, again.lane) == ("c0", HIGH)
    await queue.dead_letter(claimed[1], "test reason")
    ((dead_id, fields),) = await aredis.xrange(keys.dead)
    assert (queue_entry.decode(dead_id, fields).key, fields["lane"], fields["reason"]) == (
        "w0",
        NORMAL,
        "test reason",
    )
    await queue.ack(claimed[1])
    await queue.ack(again)
    await queue.ack(high)  # the stale first delivery's id is already handed back: a no-op
    for lane in (HIGH, NORMAL):
        assert (await aredis.xpending(keys.lane(lane), "workers"))["pending"] == 0
    await queue.trim_acknowledged()
    assert await aredis.xlen(keys.lane(HIGH)) + await aredis.xlen(keys.lane(NORMAL)) == 0


@pytest.fixture
def start(start_service: Callable[..., Service], test_playbooks: Path) -> Callable[..., Service]:
    def start_with_test_playbooks(**env: str) -> Service:
        return start_service(AUTONOMIC_PLAYBOOK_DIRS=str(test_playbooks), **env)

    return start_with_test_playbooks


def _lane(n: str, severity: str, **labels: str) -> dict[str, object]:
    return alert("LaneTest", n=n, severity=severity, **labels)


def test_a_critical_alert_overtakes_a_queued_warning_backlog(
    start: Callable[..., Service], sync_redis: redis.Redis, ns: str
) -> None:
    # The shared reader alone (no reserved high-lane slots): the order it takes entries in.
    svc = start(AUTONOMIC_WORKERS="1", AUTONOMIC_HIGH_LANE_WORKERS="0")
    post(svc.url, payload(_lane("blocker", "warning", hold="yes")))  # holds the only worker
    wait_for(lambda: sync_redis.get(f"{ns}lane:holding") == "1", what="worker busy")
    post(svc.url, payload(*(_lane(f"w{i}", "warning") for i in range(5))))
    post(svc.url, payload(_lane("crit", "critical")))
    queue = httpx.get(f"{svc.url}/api/queue", headers=OPERATOR, timeout=10).json()
    assert queue["lanes"]["high"]["lag"] == 1
    assert queue["lanes"]["normal"]["lag"] == 5
    metrics = httpx.get(f"{svc.url}/metrics", timeout=10).text
    assert 'autonomic_queue_lane_depth{lane="high",state="lag"} 1.0' in metrics
    sync_redis.set(f"{ns}release", "1")
    wait_for(lambda: sync_redis.llen(f"{ns}lane:order") == 7, what="all seven ran")
    assert sync_redis.lrange(f"{ns}lane:order", 0, -1) == ["blocker", "crit", "w0", "w1", "w2", "w3", "w4"]


def test_a_critical_alert_starts_at_once_while_warnings_hold_every_shared_slot(
    start: Callable[..., Service], sync_redis: redis.Redis, ns: str
) -> None:
    svc = start(AUTONOMIC_WORKERS="1", AUTONOMIC_HIGH_LANE_WORKERS="1")
    post(svc.url, payload(_lane("blocker", "warning", hold="yes")))  # holds the only shared slot
    wait_for(lambda: sync_redis.get(f"{ns}lane:holding") == "1", what="shared slot busy")
    post(svc.url, payload(*(_lane(f"w{i}", "warning") for i in range(3))))
    post(svc.url, payload(_lane("crit", "critical", hold="yes")))
    # The blocker still runs: the critical alert runs beside it, in the reserved slot.
    wait_for(lambda: sync_redis.get(f"{ns}lane:holding") == "2", what="critical beside the blocker")
    assert sync_redis.lrange(f"{ns}lane:order", 0, -1) == ["blocker", "crit"]
    assert sync_redis.xpending(f"{ns}alerts", "workers")["pending"] == 1  # the warnings wait
    sync_redis.set(f"{ns}release", "1")
    wait_for(lambda: sync_redis.llen(f"{ns}lane:order") == 5, what="all five ran")
    assert sync_redis.lrange(f"{ns}lane:order", 2, -1) == ["w0", "w1", "w2"]


def test_manual_triggers_take_the_high_lane(
    start: Callable[..., Service], sync_redis: redis.Redis, ns: str
) -> None:
    svc = start(AUTONOMIC_WORKERS="1", AUTONOMIC_HIGH_LANE_WORKERS="0")
    post(svc.url, payload(_lane("blocker", "warning", hold="yes")))
    wait_for(lambda: sync_redis.get(f"{ns}lane:holding") == "1", what="worker busy")
    post(svc.url, payload(*(_lane(f"w{i}", "warning") for i in range(3))))
    response = httpx.post(
        f"{svc.url}/api/playbooks/scale_chat/trigger",
        json={"params": {"replicas": 3}},
        headers=OPERATOR,
        timeout=10,
    )
    assert response.status_code == 202, response.text
    assert sync_redis.xlen(f"{ns}alerts:high") == 1
    sync_redis.set(f"{ns}release", "1")
    runs = wait_for(lambda: (r := executions(svc.url)) and len(r) == 5 and r, what="all five ran")
    # One worker runs one thing at a time: start order is run order. The manual run, queued
    # after the three warnings, went right after the blocker.
    started = sorted(runs, key=lambda r: r["started_at"])
    assert [r["playbook"] for r in started[:2]] == ["lane_probe", "scale_chat"]
    assert sync_redis.get(f"{ns}flags:manual.replicas") == "3"


def test_killed_replica_work_in_both_lanes_completes_exactly_once(
    start: Callable[..., Service], sync_redis: redis.Redis, ns: str
) -> None:
    a = start(name="a", AUTONOMIC_WORKERS="2")
    held = [_lane("warn", "warning", hold="yes"), _lane("crit", "critical", hold="yes")]
    post(a.url, payload(*held))
    wait_for(lambda: sync_redis.get(f"{ns}lane:holding") == "2", what="both lanes mid-execution")
    a.kill()  # SIGKILL: one entry pending in each lane under a dead consumer
    for lane in ("alerts", "alerts:high"):
        assert sync_redis.xpending(f"{ns}{lane}", "workers")["pending"] == 1

    b = start(name="b", AUTONOMIC_WORKERS="2")
    sync_redis.set(f"{ns}release", "1")
    runs = wait_for(
        lambda: (r := executions(b.url, playbook="lane_probe")) and len(r) == 2 and r, what="both reclaimed"
    )
    assert {r["status"] for r in runs} == {"succeeded"}
    for item in held:
        fp = item["fingerprint"]
        assert sync_redis.get(f"{ns}effects:lane:{fp}:first") == "1"  # not repeated by b
        assert sync_redis.get(f"{ns}effects:lane:{fp}:second") == "1"
    assert sync_redis.xlen(f"{ns}executions") == 2
    for lane in ("alerts", "alerts:high"):
        assert sync_redis.xpending(f"{ns}{lane}", "workers")["pending"] == 0


async def test_due_follow_ups_go_to_the_high_lane(aredis: aioredis.Redis, ns: str) -> None:
    from app.engine.followups import FollowUps
    from app.models import Alert

    keys = Keys(ns)
    followups = FollowUps(aredis, keys)
    await followups.schedule("fu-1", "lane_probe", Alert(status="firing", labels={"severity": "info"}), 0)
    released = 0
    while not released:  # due within the second (the release compares whole seconds)
        released = await followups.release_due()
    assert await aredis.xlen(keys.lane(HIGH)) == 1
    assert await aredis.xlen(keys.lane(NORMAL)) == 0
