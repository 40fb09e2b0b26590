"""Approval gates: what a parked entry records, and that the decision names the right gate."""

from __future__ import annotations

from redis.asyncio import Redis

from app.engine.approvals import ApprovalStore
from app.keys import Keys


async def test_a_new_gate_of_the_same_execution_replaces_the_old(aredis: Redis, ns: str) -> None:
    store = ApprovalStore(aredis, Keys(ns), timeout_s=60)
    await store.request(
        execution_id="ex-1", playbook="pb", index=0, description="a", alertname="A", fields={"k": "e"}
    )
    second = await store.request(
        execution_id="ex-1", playbook="pb", index=4, description="b", alertname="A", fields={"k": "e"}
    )
    got = await store.get("ex-1")
    assert got == second and got is not None and (got.index, got.description) == (4, "b")
    assert second.deadline - second.requested_at == 60


async def test_decisions_are_per_gate_and_pending_sorts_by_deadline(aredis: Redis, ns: str) -> None:
    store = ApprovalStore(aredis, Keys(ns), timeout_s=60)
    await store.request(
        execution_id="ex-2", playbook="pb", index=1, description="x", alertname="A", fields={"k": "e"}
    )
    store.timeout_s = 30
    await store.request(
        execution_id="ex-3", playbook="pb", index=0, description="y", alertname="B", fields={"k": "e"}
    )
    assert [p.execution_id for p in await store.pending()] == ["ex-3", "ex-2"]
    await store.decide("ex-2", "reject", "bob", "not now")
    assert await store.decision("ex-2", 0) is None
    decision = await store.decision("ex-2", 1)
    assert decision is not None and decision["comment"] == "not now"
    assert await store.expire_due() == 0  # ex-3 is still within its deadline
    assert await store.decide("ex-9", "approve", "bob") is None
