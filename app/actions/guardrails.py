"""Guardrails kept in Redis so every replica sees the same state: the restart budget."""

from __future__ import annotations

from redis.asyncio import Redis

from app.errors import GuardrailRefused

# Sliding one-hour window of restarts per workload; the member is the action's idempotency
# key, so a repeated action does not spend the budget twice.
_TAKE = """
local now = tonumber(redis.call('TIME')[1]) * 1000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
if redis.call('ZSCORE', KEYS[1], ARGV[3]) then return 1 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""


class RestartBudget:
    """At most `per_hour` restarts per workload per rolling hour."""

    def __init__(self, redis: Redis, namespace: str, per_hour: int, window_s: float = 3600.0) -> None:
        self.redis = redis
        self.prefix = f"{namespace}budget:restart:"
        self.per_hour = per_hour
        self.window_ms = int(window_s * 1000)
        self._script = redis.register_script(_TAKE)

    async def take(self, workload: str, key: str) -> None:
        """Spend one restart for `workload`, or raise GuardrailRefused when the budget is spent."""
        ok = await self._script(keys=[self.prefix + workload], args=[self.per_hour, self.window_ms, key])
        if not ok:
            raise GuardrailRefused(f"restart budget of {self.per_hour}/hour for {workload} is spent")
