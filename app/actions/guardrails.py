"""Guardrails kept in Redis so every replica sees the same state: the Kubernetes write budgets.

Every write (restart, scale, pod deletion) spends units from three sliding
windows at once — per workload, per namespace and in total — in one Lua script
(`budget.lua`), so two replicas cannot both take the last unit. A unit is named
by the action's idempotency key, so a repeated action (a reclaimed execution)
does not spend twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files

from redis.asyncio import Redis

from app.errors import GuardrailRefused
from app.keys import Keys

_SCRIPT = files("app.actions").joinpath("budget.lua").read_text()
_SCOPES = ("workload", "namespace", "total")


@dataclass(frozen=True)
class Limits:
    """Writes allowed per rolling window: per workload, per namespace, in total."""

    workload: int = 3
    namespace: int = 10
    total: int = 20
    window_s: float = 3600.0


class KubeBudget:
    """Spends Kubernetes write units from the per-workload, per-namespace and total budgets."""

    def __init__(self, redis: Redis, keys: Keys, limits: Limits) -> None:
        self.keys = keys
        self.limits = limits
        self._script = redis.register_script(_SCRIPT)

    async def take(self, namespace: str, workload: str, members: list[str]) -> None:
        """Spend one unit per member for `workload` in `namespace` (`members` are idempotency
        keys), or raise GuardrailRefused naming the budget that is used up."""
        limits = self.limits
        spent = await self._script(
            keys=self.keys.kube_budgets(namespace, workload),
            args=[limits.workload, limits.namespace, limits.total, int(limits.window_s * 1000), *members],
        )
        if spent:
            scope = _SCOPES[int(spent) - 1]
            limit = getattr(limits, scope)
            where = {"workload": f"{namespace}/{workload}", "namespace": namespace, "total": "all namespaces"}
            raise GuardrailRefused(
                f"kube budget per {scope} ({limit} writes per {limits.window_s:g}s) "
                f"is spent for {where[scope]}"
            )
