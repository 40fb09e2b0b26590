"""The runtime builds one replica's parts once, wires them to each other, starts and stops them."""

from __future__ import annotations

import pytest

from app.engine.runtime import Runtime
from app.plugins.registry import Registry
from tests.unit.engine.conftest import settings_for


async def test_parts_share_one_client_and_one_namespace(runtime: Runtime) -> None:
    redis = runtime.clients.commands
    assert runtime.queue.redis is redis and runtime.executions.redis is redis and runtime.flags.redis is redis
    assert runtime.dispatcher.executions is runtime.executions
    assert runtime.dispatcher.firing is runtime.firing and runtime.reconciler.firing is runtime.firing
    assert runtime.workers.queue is runtime.queue and runtime.workers.dispatcher is runtime.dispatcher
    assert runtime.keys.ns == runtime.settings.redis_namespace
    assert runtime.reconciler.alertmanager is None  # none configured


async def test_start_defines_the_jobs_and_connects_adapters(ns: str) -> None:
    runtime = Runtime.build(settings_for(ns, slack_token="xoxb-1"), Registry())
    await runtime.start(run_workers=False)
    try:
        assert set(runtime.scheduler.jobs) == {"cost_exporter", "lease_sweeper", "lifecycle", "reconciler"}
        adapters = runtime.dispatcher.adapters
        assert adapters.slack is not None and "slack" not in adapters.missing
        assert adapters.pagerduty is None and "pagerduty" in adapters.missing
        assert runtime.reconciler.redact is adapters.redact
        assert adapters.redact("sent with xoxb-1") == "sent with [redacted]"
    finally:
        await runtime.stop(run_workers=False)


async def test_a_failed_start_stops_what_started(ns: str) -> None:
    runtime = Runtime.build(settings_for(ns, cost_source="mysql://nope"), Registry())
    with pytest.raises(ValueError, match="AUTONOMIC_COST_SOURCE"):
        await runtime.start(run_workers=False)
    assert not runtime.scheduler.leading
