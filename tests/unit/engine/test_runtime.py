"""The runtime builds one replica's parts once, wires them to each other, starts and stops them."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.engine.runtime import Runtime
from app.plugins.registry import Registry
from tests.support.kube import KubeEmulator
from tests.unit.engine.conftest import settings_for


async def test_parts_are_built_once_and_shared(runtime: Runtime) -> None:
    redis = runtime.clients.commands
    assert runtime.queue.redis is redis and runtime.executions.redis is redis and runtime.flags.redis is redis
    dispatcher, workers = runtime.dispatcher, runtime.workers
    assert dispatcher.executions is runtime.executions and dispatcher.approvals is runtime.approvals
    assert dispatcher.firing is runtime.firing and runtime.reconciler.firing is runtime.firing
    assert dispatcher.followups is runtime.followups is workers.followups
    assert workers.approvals is runtime.approvals
    assert workers.queue is runtime.queue and workers.dispatcher is dispatcher
    assert dispatcher.adapters is runtime.adapters and runtime.reconciler.redact is runtime.adapters.redact
    assert runtime.keys.ns == runtime.settings.redis_namespace
    assert runtime.reconciler.alertmanager is None and dispatcher.alertmanager is None  # none configured
    assert dispatcher.config.playbook_timeout == runtime.settings.playbook_timeout
    assert runtime.adapters.missing["kube"] == "not connected yet"


async def test_one_alertmanager_client_for_dispatch_and_the_reconciler(ns: str) -> None:
    runtime = Runtime.build(settings_for(ns, alertmanager_urls="http://127.0.0.1:1"), Registry())
    assert runtime.reconciler.alertmanager is not None
    assert runtime.dispatcher.alertmanager is runtime.reconciler.alertmanager
    await runtime.reconciler.alertmanager.close()
    await runtime.clients.close()


async def test_start_defines_the_jobs_and_connects_adapters(ns: str, tmp_path: Path) -> None:
    settings = settings_for(ns, slack_token="xoxb-1", kubeconfig=tmp_path / "no-kubeconfig")
    runtime = Runtime.build(settings, Registry())
    await runtime.start(run_workers=False)
    try:
        assert set(runtime.scheduler.jobs) == {"cost_exporter", "lease_sweeper", "lifecycle", "reconciler"}
        adapters = runtime.adapters
        assert adapters is runtime.dispatcher.adapters
        assert adapters.slack is not None and "slack" not in adapters.missing
        assert adapters.pagerduty is None and "pagerduty" in adapters.missing
        assert adapters.missing["kube"] == "no Kubernetes credentials (in-cluster or kubeconfig)"
        assert runtime.reconciler.redact is adapters.redact
        assert adapters.redact("sent with xoxb-1") == "sent with [redacted]"
    finally:
        await runtime.stop(run_workers=False)


async def test_a_failed_start_stops_what_started(ns: str) -> None:
    runtime = Runtime.build(settings_for(ns, cost_source="mysql://nope"), Registry())
    with pytest.raises(ValueError, match="AUTONOMIC_COST_SOURCE"):
        await runtime.start(run_workers=False)
    assert not runtime.scheduler.leading


async def test_kubernetes_connects_on_start_with_the_runtimes_guardrails(
    ns: str, tmp_path: Path, kube: KubeEmulator
) -> None:
    settings = settings_for(ns, kubeconfig=kube.kubeconfig(tmp_path), kube_namespaces="llm")
    runtime = Runtime.build(settings, Registry())
    await runtime.start(run_workers=False)
    try:
        assert runtime.adapters.kube is not None and "kube" not in runtime.adapters.missing
        assert runtime.adapters.kube.budget is runtime.guardrails
    finally:
        await runtime.stop(run_workers=False)
