"""Priority lanes on the embedded Redis (`memory://`, fakeredis): its Lua XREADGROUP reply has
a different shape than Redis's, and the Quick start runs on it."""

from __future__ import annotations

import fakeredis

from app.engine.lanes import HIGH, NORMAL, LanePolicy
from app.engine.queue import AlertQueue
from app.keys import Keys


async def test_lanes_read_in_priority_order_on_the_embedded_redis() -> None:
    redis = fakeredis.FakeAsyncRedis(decode_responses=True)
    queue = AlertQueue(redis, Keys("t:"), max_len=100, dedup_ttl_s=60, lanes=LanePolicy(share=2))
    await queue.ensure_group()
    lanes = [("w1", NORMAL), ("w2", NORMAL), ("c1", HIGH), ("c2", HIGH)]
    items = [(key, "{}", "", "+fp-" + key, lane) for key, lane in lanes]
    assert await queue.enqueue(items) == (4, 0)
    keys = []
    for _ in range(4):
        (entry,) = await queue.read("c", 1, 10)
        keys.append(entry.key)
    assert keys == ["c1", "w1", "c2", "w2"]  # share 2: the normal lane every other read
    assert await queue.read("c", 1, 10) == []
    depth = await queue.depth()
    assert depth.lanes is not None and depth.lanes[HIGH].pending == 2 and depth.lanes[NORMAL].pending == 2
    await redis.aclose()
