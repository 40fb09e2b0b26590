"""Cooldown slots: one per (playbook, labels), held by one execution, expiring with the cooldown."""

from __future__ import annotations

from redis.asyncio import Redis

from app.engine.cooldowns import Cooldowns
from app.keys import Keys
from tests.unit.conftest import make_alert


async def test_the_first_execution_holds_the_slot(aredis: Redis, ns: str) -> None:
    cooldowns = Cooldowns(aredis, Keys(ns))
    alert = make_alert(service="api")
    assert not await cooldowns.active("pb", alert)
    assert not await cooldowns.take("pb", alert, "ex-1", 60)
    assert not await cooldowns.take("pb", alert, "ex-1", 60)  # its own retry is not blocked
    assert await cooldowns.take("pb", make_alert(fingerprint="other", service="api"), "ex-2", 60)
    assert await cooldowns.active("pb", alert)
    assert not await cooldowns.take("other", alert, "ex-3", 60)  # per playbook
    assert not await cooldowns.take("pb", make_alert(service="db"), "ex-4", 60)  # per labels


async def test_the_slot_expires_with_the_cooldown(aredis: Redis, ns: str) -> None:
    keys = Keys(ns)
    cooldowns = Cooldowns(aredis, keys)
    await cooldowns.take("pb", make_alert(), "ex-1", 90)
    (key,) = [k async for k in aredis.scan_iter(match=f"{ns}cooldown:pb:*")]
    assert 80_000 < await aredis.pttl(key) <= 90_000
