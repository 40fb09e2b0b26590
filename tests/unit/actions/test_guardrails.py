"""The Kubernetes write budgets: per workload, per namespace, in total, idempotent per key."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from app.actions.guardrails import KubeBudget, Limits
from app.errors import GuardrailRefused
from app.keys import Keys


async def test_the_workload_budget_runs_out_first(aredis: Redis, ns: str) -> None:
    budget = KubeBudget(aredis, Keys(ns), Limits(workload=2, namespace=5, total=9, window_s=60))
    await budget.take("llm", "api", ["k1"])
    await budget.take("llm", "api", ["k1"])  # the same key spends nothing again
    await budget.take("llm", "api", ["k2"])
    with pytest.raises(GuardrailRefused, match=r"per workload \(2 writes per 60s\) is spent for llm/api"):
        await budget.take("llm", "api", ["k3"])
    await budget.take("llm", "worker", ["k4"])  # another workload still has budget


async def test_namespace_and_total_budgets(aredis: Redis, ns: str) -> None:
    budget = KubeBudget(aredis, Keys(ns), Limits(workload=10, namespace=2, total=3, window_s=60))
    await budget.take("a", "w1", ["k1", "k2"])
    with pytest.raises(GuardrailRefused, match="per namespace"):
        await budget.take("a", "w2", ["k3"])
    await budget.take("b", "w1", ["k4"])
    with pytest.raises(GuardrailRefused, match=r"per total .* all namespaces"):
        await budget.take("c", "w1", ["k5"])
