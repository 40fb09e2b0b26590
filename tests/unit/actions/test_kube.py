"""The Kubernetes adapter against the kmock emulator: the namespace allowlist, idempotent
restarts, scaling rules, paused rollouts, and names and selectors that cannot inject."""

from __future__ import annotations

import pytest

from app.actions.kube import check_name, selector
from app.actions.outside import Adapters
from app.errors import GuardrailRefused, PermanentError
from tests.support.kube import KubeEmulator, deployment


def test_names_and_selectors_are_validated() -> None:
    assert check_name("deployment", "api-1") == "api-1"
    with pytest.raises(PermanentError, match="invalid pod name"):
        check_name("pod", "../etc")
    assert selector({"app": "api", "tier": "web"}) == "app=api,tier=web"
    with pytest.raises(PermanentError, match="empty label selector"):
        selector({})
    with pytest.raises(PermanentError, match="invalid label selector term"):
        selector({"app": "api,tier!=db"})


async def test_a_restart_happens_once_per_key(adapters: Adapters, kube: KubeEmulator) -> None:
    assert adapters.kube is not None
    kube.add(deployment("api", "llm"))
    first = await adapters.kube.restart("deployment", "api", "llm", key="ex-1:0")
    again = await adapters.kube.restart("deployment", "api", "llm", key="ex-1:0")
    assert again == {"restarted_at": first["restarted_at"], "already_done": True}
    assert len(kube.requests("PATCH")) == 1


async def test_guardrails_refuse_before_any_write(adapters: Adapters, kube: KubeEmulator) -> None:
    assert adapters.kube is not None
    kube.add(deployment("frozen", "llm", paused=True))
    with pytest.raises(GuardrailRefused, match="not in AUTONOMIC_KUBE_NAMESPACES"):
        await adapters.kube.restart("deployment", "api", "kube-system", key="k")
    with pytest.raises(GuardrailRefused, match="rollout is paused"):
        await adapters.kube.restart("deployment", "frozen", "llm", key="k")
    with pytest.raises(GuardrailRefused, match="needs allow_zero"):
        await adapters.kube.scale("deployment", "frozen", "llm", 0, key="k")
    with pytest.raises(PermanentError, match="daemonset cannot be scaled"):
        await adapters.kube.scale("daemonset", "x", "llm", 2, key="k")
    assert kube.requests("PATCH") == []


async def test_scaling_patches_only_a_change(adapters: Adapters, kube: KubeEmulator) -> None:
    assert adapters.kube is not None
    kube.add(deployment("api", "llm", replicas=2))
    assert await adapters.kube.scale("deployment", "api", "llm", 2, key="k1") == {
        "replicas": 2,
        "already_done": True,
    }
    assert await adapters.kube.scale("deployment", "api", "llm", 4, key="k2") == {"replicas": 4, "was": 2}
    assert kube.get("api", "llm")["spec"]["replicas"] == 4
    with pytest.raises(PermanentError, match="not found"):
        await adapters.kube.scale("deployment", "missing", "llm", 1, key="k3")
