"""Kubernetes through `kubernetes.aio` (never blocking the event loop): rollout restart as
kubectl does it, pod deletion by name or label selector with a cap, and scaling.

Guardrails are applied before any write: the namespace allowlist, a paused
rollout, and the per-workload restart budget (shared by replicas in Redis). A
restart stamps the pod template with the action's idempotency key; a repeat
of the same action (a reclaimed execution) sees the stamp and does nothing.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from typing import Any, Literal

import aiohttp
from kubernetes.aio import client as kclient
from kubernetes.aio.client.exceptions import ApiException

from app.actions.guardrails import RestartBudget
from app.actions.retry import Retryable, RetryPolicy, call, parse_retry_after
from app.errors import GuardrailRefused, PermanentError

Kind = Literal["deployment", "statefulset", "daemonset"]
KINDS: tuple[Kind, ...] = ("deployment", "statefulset", "daemonset")
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
RESTART_KEY = "autonomic.io/restart-key"
_NAME = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")
_LABEL_KEY = re.compile(
    r"([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
)
_LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?")


def check_name(what: str, value: str) -> str:
    """`value` if it is a valid Kubernetes object name, else PermanentError (never sent)."""
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise PermanentError(f"invalid {what} name {value!r}")
    return value


def selector(labels: dict[str, str]) -> str:
    """An equality label selector from validated keys and values: label text cannot inject
    operators (`!=`, `in`, `,`) into the selector."""
    if not labels:
        raise PermanentError("an empty label selector would match every pod")
    parts = []
    for key, value in sorted(labels.items()):
        if not _LABEL_KEY.fullmatch(key) or not _LABEL_VALUE.fullmatch(value):
            raise PermanentError(f"invalid label selector term {key!r}={value!r}")
        parts.append(f"{key}={value}")
    return ",".join(parts)


def _classify(exc: BaseException, what: str) -> BaseException:
    if isinstance(exc, ApiException):
        status = int(exc.status or 0)
        if status in (409, 429) or status >= 500:
            headers = exc.headers or {}
            return Retryable(
                f"{what}: HTTP {status} {exc.reason}",
                retry_after=parse_retry_after(headers.get("Retry-After")),
            )
        if status == 403:
            return PermanentError(f"{what}: forbidden (check the service account's RBAC)")
        if status == 404:
            return PermanentError(f"{what}: not found")
        return PermanentError(f"{what}: HTTP {status} {exc.reason}")
    if isinstance(exc, aiohttp.ClientError | asyncio.TimeoutError | TimeoutError | OSError):
        return Retryable(f"{what}: {type(exc).__name__}: {exc}")
    return exc


class KubeAdapter:
    """Guarded workload operations over one `kubernetes.aio` ApiClient."""

    def __init__(
        self,
        api: kclient.ApiClient,
        *,
        namespaces: list[str],
        budget: RestartBudget,
        policy: RetryPolicy,
        timeout: float = 10.0,
        max_pod_deletes: int = 5,
    ) -> None:
        self.api = api
        self.apps = kclient.AppsV1Api(api)
        self.core = kclient.CoreV1Api(api)
        self.namespaces = frozenset(namespaces)
        self.budget = budget
        self.policy = policy
        self.timeout = timeout
        self.max_pod_deletes = max_pod_deletes

    def _allowed(self, namespace: str) -> None:
        check_name("namespace", namespace)
        if namespace not in self.namespaces:
            allowed = ", ".join(sorted(self.namespaces)) or "none configured"
            raise GuardrailRefused(f"namespace {namespace!r} is not in AUTONOMIC_KUBE_NAMESPACES ({allowed})")

    async def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        async def once() -> Any:
            try:
                return await fn(*args, _request_timeout=self.timeout, **kwargs)
            except (Retryable, PermanentError):
                raise
            except Exception as exc:
                raise _classify(exc, what) from None

        return await call(self.policy, what, once)

    def _ops(self, kind: Kind) -> tuple[Any, Any, Any]:
        if kind == "deployment":
            return (
                self.apps.read_namespaced_deployment,
                self.apps.patch_namespaced_deployment,
                self.apps.patch_namespaced_deployment_scale,
            )
        if kind == "statefulset":
            return (
                self.apps.read_namespaced_stateful_set,
                self.apps.patch_namespaced_stateful_set,
                self.apps.patch_namespaced_stateful_set_scale,
            )
        if kind == "daemonset":
            return self.apps.read_namespaced_daemon_set, self.apps.patch_namespaced_daemon_set, None
        raise PermanentError(f"unknown workload kind {kind!r}: use one of {', '.join(KINDS)}")

    async def restart(self, kind: Kind, name: str, namespace: str, *, key: str) -> dict[str, Any]:
        """Rollout restart (kubectl's annotation), once per idempotency `key`, within the budget."""
        self._allowed(namespace)
        check_name(kind, name)
        read, patch, _ = self._ops(kind)
        what = f"restart {kind}/{name} in {namespace}"
        workload = await self._call(what, read, name, namespace)
        annotations = (
            (workload.spec.template.metadata.annotations or {}) if workload.spec.template.metadata else {}
        )
        if annotations.get(RESTART_KEY) == key:
            return {"restarted_at": annotations.get(RESTARTED_AT), "already_done": True}
        if getattr(workload.spec, "paused", None):
            raise GuardrailRefused(f"{kind}/{name} in {namespace}: the rollout is paused")
        await self.budget.take(f"{namespace}/{kind}/{name}", key)
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: now, RESTART_KEY: key}}}}}
        await self._call(
            what, patch, name, namespace, body, _content_type="application/strategic-merge-patch+json"
        )
        return {"restarted_at": now}

    async def scale(self, kind: Kind, name: str, namespace: str, replicas: int) -> dict[str, Any]:
        """Set the replica count (idempotent by nature)."""
        self._allowed(namespace)
        check_name(kind, name)
        if not 0 <= replicas <= 1000:
            raise PermanentError(f"refusing to scale to {replicas} replicas")
        _, _, patch_scale = self._ops(kind)
        if patch_scale is None:
            raise PermanentError(f"a {kind} cannot be scaled")
        await self._call(
            f"scale {kind}/{name} in {namespace}",
            patch_scale,
            name,
            namespace,
            {"spec": {"replicas": replicas}},
        )
        return {"replicas": replicas}

    async def delete_pods(
        self,
        namespace: str,
        *,
        names: list[str] | None = None,
        labels: dict[str, str] | None = None,
        max_count: int = 1,
    ) -> dict[str, Any]:
        """Delete pods by name or by an equality label selector, at most `max_count` of them."""
        self._allowed(namespace)
        limit = min(max_count, self.max_pod_deletes)
        if names:
            targets = [check_name("pod", n) for n in names]
        elif labels:
            listed = await self._call(
                f"list pods in {namespace}",
                self.core.list_namespaced_pod,
                namespace,
                label_selector=selector(labels),
            )
            targets = sorted(pod.metadata.name for pod in listed.items)
        else:
            raise PermanentError("delete_pods needs names or labels")
        if len(targets) > limit:
            raise GuardrailRefused(f"{len(targets)} pods match, more than the limit of {limit}")
        deleted = []
        for pod in targets:
            try:
                await self._call(
                    f"delete pod {pod} in {namespace}", self.core.delete_namespaced_pod, pod, namespace
                )
            except PermanentError as exc:
                if "not found" not in str(exc):  # already gone: the goal is reached
                    raise
            deleted.append(pod)
        return {"deleted": deleted}

    async def close(self) -> None:
        """Close the HTTP session."""
        await self.api.close()  # type: ignore[no-untyped-call]
