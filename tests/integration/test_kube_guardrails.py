"""Guardrails on every Kubernetes write, against the kmock emulator: each refusal (namespace,
paused rollout, scale to zero, budgets per workload / namespace / total, opt-in annotation)
leaves the cluster untouched, and the budgets live in Redis where every replica sees them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import kmock
import pytest
import redis.asyncio as aioredis
from kubernetes.aio import config as kconfig

from app.actions.guardrails import KubeBudget, Limits
from app.actions.kube import OPT_IN, KubeAdapter
from app.actions.retry import RetryPolicy
from app.errors import GuardrailRefused
from app.keys import Keys
from tests.support.kube import deployment

FAST = RetryPolicy(attempts=2, base_delay=0.001, max_delay=0.01)
Make = Callable[..., KubeAdapter]
ROOMY = Limits(workload=100, namespace=100, total=100)


def pod(
    name: str, namespace: str, app: str, *, created: str = "2026-01-01T00:00:00Z", **annotations: str
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"app": app},
            "annotations": annotations,
            "creationTimestamp": created,
        },
        "spec": {"containers": [{"name": "app", "image": f"{app}:1"}]},
    }


@pytest.fixture
async def cluster(aredis: aioredis.Redis, ns: str) -> AsyncIterator[tuple[Any, Make]]:
    async with kmock.KubernetesEmulator() as emulator, kmock.Server(emulator) as server:
        for namespace in ("llm", "batch", "kube-system"):
            for name in ("chat", "embed", "rank"):
                emulator.objects["apps/v1/deployments", namespace, name] = deployment(name, namespace)
        emulator.objects["apps/v1/deployments", "llm", "frozen"] = deployment("frozen", "llm", paused=True)
        opted = deployment("optin", "llm")
        opted["metadata"]["annotations"] = {OPT_IN: "enabled"}
        emulator.objects["apps/v1/deployments", "llm", "optin"] = opted
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "k", "cluster": {"server": str(server.url).rstrip("/")}}],
            "users": [{"name": "u", "user": {"token": "t"}}],
            "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}],
            "current-context": "c",
        }
        made: list[KubeAdapter] = []

        def make(limits: Limits = ROOMY, **kw: Any) -> KubeAdapter:
            namespaces = kw.pop("namespaces", ["llm", "batch"])
            adapter = KubeAdapter(
                api,
                namespaces=namespaces,
                budget=KubeBudget(aredis, Keys(ns), limits),
                policy=FAST,
                timeout=2,
                **kw,
            )
            made.append(adapter)
            return adapter

        api = await kconfig.new_client_from_config_dict(config)
        yield emulator, make
        await api.close()


def writes(emulator: Any) -> list[Any]:
    return [r for r in list(emulator) if str(r.method).upper().split(".")[-1] in ("PATCH", "DELETE", "PUT")]


async def test_scale_checks_namespace_paused_rollout_and_zero(cluster: tuple[Any, Make]) -> None:
    emulator, make = cluster
    kube = make()
    with pytest.raises(GuardrailRefused, match="not in AUTONOMIC_KUBE_NAMESPACES"):
        await kube.scale("deployment", "chat", "kube-system", 3, key="a")
    with pytest.raises(GuardrailRefused, match="rollout is paused"):
        await kube.scale("deployment", "frozen", "llm", 3, key="b")
    with pytest.raises(GuardrailRefused, match="to 0 needs allow_zero=True"):
        await kube.scale("deployment", "chat", "llm", 0, key="c")
    assert writes(emulator) == []
    assert await kube.scale("deployment", "chat", "llm", 0, key="d", allow_zero=True) == {
        "replicas": 0,
        "was": 2,
    }
    (patch,) = writes(emulator)
    assert patch.url.path.endswith("/namespaces/llm/deployments/chat") and patch.data == {
        "spec": {"replicas": 0}
    }


async def test_every_write_spends_the_per_workload_budget(cluster: tuple[Any, Make]) -> None:
    emulator, make = cluster
    kube = make(Limits(workload=2, namespace=100, total=100))
    await kube.restart("deployment", "chat", "llm", key="r1")
    await kube.scale("deployment", "chat", "llm", 5, key="s1")
    await kube.scale("deployment", "chat", "llm", 5, key="s1")  # a repeat spends nothing (no-op)
    with pytest.raises(GuardrailRefused, match=r"budget per workload .* llm/deployment/chat"):
        await kube.scale("deployment", "chat", "llm", 6, key="s2")
    with pytest.raises(GuardrailRefused, match="budget per workload"):
        await kube.restart("deployment", "chat", "llm", key="r2")
    assert len(writes(emulator)) == 2
    await kube.restart("deployment", "embed", "llm", key="r3")  # another workload has its own


async def test_namespace_and_total_budgets_span_workloads(cluster: tuple[Any, Make]) -> None:
    emulator, make = cluster
    kube = make(Limits(workload=3, namespace=2, total=3))
    await kube.restart("deployment", "chat", "llm", key="a")
    await kube.restart("deployment", "embed", "llm", key="b")
    with pytest.raises(GuardrailRefused, match=r"budget per namespace .* llm"):
        await kube.restart("deployment", "rank", "llm", key="c")  # labels naming new workloads don't help
    await kube.restart("deployment", "chat", "batch", key="d")
    with pytest.raises(GuardrailRefused, match=r"budget per total .* all namespaces"):
        await kube.restart("deployment", "embed", "batch", key="e")
    # A second replica (another adapter on the same Redis) sees the same spent budget.
    with pytest.raises(GuardrailRefused, match="budget per total"):
        await make(Limits(workload=3, namespace=2, total=3)).scale("deployment", "rank", "batch", 4, key="f")
    assert len(writes(emulator)) == 3


async def test_delete_pods_checks_namespace_paused_owner_and_budget(cluster: tuple[Any, Make]) -> None:
    emulator, make = cluster
    for i in range(3):
        emulator.objects["v1/pods", "llm", f"chat-{i}"] = pod(f"chat-{i}", "llm", "chat")
    emulator.objects["v1/pods", "llm", "frozen-0"] = pod("frozen-0", "llm", "frozen")
    emulator.objects["v1/pods", "kube-system", "dns-0"] = pod("dns-0", "kube-system", "dns")
    kube = make(Limits(workload=2, namespace=100, total=100))
    with pytest.raises(GuardrailRefused, match="not in AUTONOMIC_KUBE_NAMESPACES"):
        await kube.delete_pods("kube-system", names=["dns-0"], key="a")
    with pytest.raises(GuardrailRefused, match="deployment/frozen is paused"):
        await kube.delete_pods("llm", names=["frozen-0"], key="b")
    await kube.delete_pods("llm", names=["chat-0", "chat-1"], key="c", max_count=2)
    with pytest.raises(GuardrailRefused, match="budget per workload"):
        await kube.delete_pods("llm", names=["chat-2"], key="d")
    deleted = [r.url.path.rsplit("/", 1)[-1] for r in writes(emulator)]
    assert deleted == ["chat-0", "chat-1"]


async def test_resumed_deletion_spares_replacement_pods(cluster: tuple[Any, Make]) -> None:
    emulator, make = cluster
    emulator.objects["v1/pods", "llm", "chat-old"] = pod(
        "chat-old", "llm", "chat", created="2026-01-01T00:00:00Z"
    )
    emulator.objects["v1/pods", "llm", "chat-new"] = pod(
        "chat-new", "llm", "chat", created="2026-01-01T00:10:00Z"
    )
    kube = make()
    cutoff = 1767225900.0  # 2026-01-01T00:05:00Z: when the interrupted call was first asked
    result = await kube.delete_pods(
        "llm", labels={"app": "chat"}, max_count=5, key="k", created_before=cutoff
    )
    assert result == {"deleted": ["chat-old"]}


async def test_opt_in_annotation_is_required_when_configured(cluster: tuple[Any, Make]) -> None:
    emulator, make = cluster
    emulator.objects["v1/pods", "llm", "chat-0"] = pod("chat-0", "llm", "chat")
    emulator.objects["v1/pods", "llm", "optin-0"] = pod("optin-0", "llm", "optin")
    emulator.objects["v1/pods", "llm", "solo"] = pod("solo", "llm", "solo", **{OPT_IN: "enabled"})
    kube = make(require_opt_in=True)
    for write in (
        kube.restart("deployment", "chat", "llm", key="a"),
        kube.scale("deployment", "chat", "llm", 3, key="b"),
        kube.delete_pods("llm", names=["chat-0"], key="c"),
    ):
        with pytest.raises(GuardrailRefused, match=r'not annotated autonomic\.io/automation: "enabled"'):
            await write
    assert writes(emulator) == []
    await kube.restart("deployment", "optin", "llm", key="d")
    await kube.scale("deployment", "optin", "llm", 3, key="e")
    await kube.delete_pods("llm", names=["optin-0"], key="f")  # its Deployment opted in
    await kube.delete_pods("llm", names=["solo"], key="g")  # the pod itself opted in
    assert len(writes(emulator)) == 4
