"""Intake admission: webhooks take turns only while execution is saturated."""

from __future__ import annotations

import asyncio

import pytest

from app.engine.admission import IntakeGate, Overloaded


async def test_webhooks_pass_untouched_while_a_worker_slot_is_free() -> None:
    gate = IntakeGate(permits=1, wait_s=0.5, saturated=lambda: False)
    async with gate.admit(), gate.admit(), gate.admit():  # more than `permits` at once
        pass


async def test_while_saturated_a_webhook_waits_for_a_turn_in_arrival_order() -> None:
    gate = IntakeGate(permits=1, wait_s=30, saturated=lambda: True)
    order: list[str] = []
    first_inside, release_first = asyncio.Event(), asyncio.Event()

    async def webhook(name: str, hold: asyncio.Event | None = None) -> None:
        async with gate.admit():
            order.append(name)
            if hold is not None:
                first_inside.set()
                await hold.wait()

    first = asyncio.create_task(webhook("first", release_first))
    await first_inside.wait()
    second = asyncio.create_task(webhook("second"))
    third = asyncio.create_task(webhook("third"))
    await asyncio.sleep(0)  # let both queue behind the first
    assert order == ["first"]
    release_first.set()
    await asyncio.gather(first, second, third)
    assert order == ["first", "second", "third"]


async def test_a_webhook_without_a_turn_in_time_is_refused() -> None:
    saturated = True
    gate = IntakeGate(permits=1, wait_s=0.01, saturated=lambda: saturated)
    async with gate.admit():
        with pytest.raises(Overloaded):
            async with gate.admit():
                pass
    async with gate.admit():  # the turn is free again
        pass
    refuse_all = IntakeGate(permits=0, wait_s=30, saturated=lambda: saturated)
    with pytest.raises(Overloaded):
        async with refuse_all.admit():
            pass
    saturated = False
    async with refuse_all.admit():  # a free worker slot opens the gate
        pass
