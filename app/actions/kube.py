"""Kubernetes through `kubernetes.aio` (never blocking the event loop): rollout restart as
kubectl does it, pod deletion by name or label selector with a cap, and scaling.

Guardrails are applied before every write (restart, scale, pod deletion):
the namespace allowlist, a paused rollout, optionally an opt-in annotation on
the workload (`autonomic.io/automation: "enabled"`), and the write budgets per
workload, per namespace and in total (shared by replicas in Redis); scaling to
zero needs `allow_zero`. A restart stamps the pod template with the action's
idempotency key; a repeat of the same action (a reclaimed execution) sees the
stamp and does nothing. Scaling patches the workload itself (no `*/scale`
permission needed) and is a no-op when the count is already right; a
reclaimed pod deletion deletes only pods that existed when it was first asked.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from typing import Any, Literal

import aiohttp
from kubernetes.aio import client as kclient
from kubernetes.aio.client.exceptions import ApiException

from app.actions.guardrails import KubeBudget
from app.actions.retry import Retryable, RetryPolicy, call, retryable_status
from app.errors import GuardrailRefused, PermanentError

Kind = Literal["deployment", "statefulset", "daemonset"]
KINDS: tuple[Kind, ...] = ("deployment", "statefulset", "daemonset")
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
RESTART_KEY = "autonomic.io/restart-key"
OPT_IN = "autonomic.io/automation"
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
        retry = retryable_status(
            status, f"{what}: HTTP {status} {exc.reason}", (exc.headers or {}).get("Retry-After"), also=(409,)
        )
        if retry is not None:
            return retry
        if status == 403:
            return PermanentError(f"{what}: forbidden (check the service account's RBAC)")
        if status == 404:
            return PermanentError(f"{what}: not found")
        return PermanentError(f"{what}: HTTP {status} {exc.reason}")
    if isinstance(exc, aiohttp.ClientError | asyncio.TimeoutError | TimeoutError | OSError):
        return Retryable(f"{what}: {type(exc).__name__}: {exc}")
    return exc


def _annotations(obj: Any) -> dict[str, str]:
    meta = getattr(obj, "metadata", None)
    return dict(getattr(meta, "annotations", None) or {})


def _created(obj: Any) -> float:
    stamp = getattr(getattr(obj, "metadata", None), "creation_timestamp", None)
    if isinstance(stamp, datetime):
        return stamp.timestamp()
    if isinstance(stamp, str):
        try:
            return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return 0.0
    return 0.0


class KubeAdapter:
    """Guarded workload operations over one `kubernetes.aio` ApiClient."""

    def __init__(
        self,
        api: kclient.ApiClient,
        *,
        namespaces: list[str],
        budget: KubeBudget,
        policy: RetryPolicy,
        timeout: float = 10.0,
        max_pod_deletes: int = 5,
        require_opt_in: bool = False,
    ) -> None:
        self.api = api
        self.apps = kclient.AppsV1Api(api)
        self.core = kclient.CoreV1Api(api)
        self.namespaces = frozenset(namespaces)
        self.budget = budget
        self.policy = policy
        self.timeout = timeout
        self.max_pod_deletes = max_pod_deletes
        self.require_opt_in = require_opt_in

    def _allowed(self, namespace: str) -> None:
        check_name("namespace", namespace)
        if namespace not in self.namespaces:
            allowed = ", ".join(sorted(self.namespaces)) or "none configured"
            raise GuardrailRefused(f"namespace {namespace!r} is not in AUTONOMIC_KUBE_NAMESPACES ({allowed})")

    def _opted_in(self, what: str, *objects: Any) -> None:
        if self.require_opt_in and not any(_annotations(o).get(OPT_IN) == "enabled" for o in objects):
            raise GuardrailRefused(
                f'{what} is not annotated {OPT_IN}: "enabled" (AUTONOMIC_KUBE_REQUIRE_OPT_IN is on)'
            )

    async def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        async def once() -> Any:
            try:
                return await fn(*args, _request_timeout=self.timeout, **kwargs)
            except (Retryable, PermanentError):
                raise
            except Exception as exc:
                raise _classify(exc, what) from None

        return await call(self.policy, what, once)

    def _ops(self, kind: Kind) -> tuple[Any, Any]:
        if kind == "deployment":
            return self.apps.read_namespaced_deployment, self.apps.patch_namespaced_deployment
        if kind == "statefulset":
            return self.apps.read_namespaced_stateful_set, self.apps.patch_namespaced_stateful_set
        if kind == "daemonset":
            return self.apps.read_namespaced_daemon_set, self.apps.patch_namespaced_daemon_set
        raise PermanentError(f"unknown workload kind {kind!r}: use one of {', '.join(KINDS)}")

    async def _workload(self, kind: Kind, name: str, namespace: str, what: str) -> tuple[Any, Any]:
        """Read a workload after the allowlist check; refuse paused or (when required) not opted-in."""
        self._allowed(namespace)
        check_name(kind, name)
        read, patch = self._ops(kind)
        workload = await self._call(what, read, name, namespace)
        if getattr(workload.spec, "paused", None):
            raise GuardrailRefused(f"{kind}/{name} in {namespace}: the rollout is paused")
        self._opted_in(f"{kind}/{name} in {namespace}", workload)
        return workload, patch

    async def restart(self, kind: Kind, name: str, namespace: str, *, key: str) -> dict[str, Any]:
        """Rollout restart (kubectl's annotation), once per idempotency `key`, within the budgets."""
        what = f"restart {kind}/{name} in {namespace}"
        self._allowed(namespace)
        check_name(kind, name)
        read, patch = self._ops(kind)
        workload = await self._call(what, read, name, namespace)
        annotations = (
            (workload.spec.template.metadata.annotations or {}) if workload.spec.template.metadata else {}
        )
        if annotations.get(RESTART_KEY) == key:
            return {"restarted_at": annotations.get(RESTARTED_AT), "already_done": True}
        if getattr(workload.spec, "paused", None):
            raise GuardrailRefused(f"{kind}/{name} in {namespace}: the rollout is paused")
        self._opted_in(f"{kind}/{name} in {namespace}", workload)
        await self.budget.take(namespace, f"{kind}/{name}", [key])
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: now, RESTART_KEY: key}}}}}
        await self._call(
            what, patch, name, namespace, body, _content_type="application/strategic-merge-patch+json"
        )
        return {"restarted_at": now}

    async def scale(
        self, kind: Kind, name: str, namespace: str, replicas: int, *, key: str, allow_zero: bool = False
    ) -> dict[str, Any]:
        """Set the replica count by patching the workload, within the budgets; 0 only with `allow_zero`."""
        if kind == "daemonset":
            raise PermanentError("a daemonset cannot be scaled")
        if not 0 <= replicas <= 1000:
            raise PermanentError(f"refusing to scale to {replicas} replicas")
        if replicas == 0 and not allow_zero:
            raise GuardrailRefused(f"scaling {kind}/{name} in {namespace} to 0 needs allow_zero=True")
        what = f"scale {kind}/{name} in {namespace}"
        workload, patch = await self._workload(kind, name, namespace, what)
        if workload.spec.replicas == replicas:
            return {"replicas": replicas, "already_done": True}
        await self.budget.take(namespace, f"{kind}/{name}", [key])
        body = {"spec": {"replicas": replicas}}
        await self._call(what, patch, name, namespace, body, _content_type="application/merge-patch+json")
        return {"replicas": replicas, "was": workload.spec.replicas}

    async def _pods(
        self, namespace: str, names: list[str] | None, labels: dict[str, str] | None
    ) -> list[Any]:
        if names:
            found = []
            for pod in [check_name("pod", n) for n in names]:
                try:
                    found.append(
                        await self._call(
                            f"read pod {pod} in {namespace}", self.core.read_namespaced_pod, pod, namespace
                        )
                    )
                except PermanentError as exc:
                    if "not found" not in str(exc):  # already gone: nothing to do for it
                        raise
            return found
        if labels:
            listed = await self._call(
                f"list pods in {namespace}",
                self.core.list_namespaced_pod,
                namespace,
                label_selector=selector(labels),
            )
            return list(listed.items)
        raise PermanentError("delete_pods needs names or labels")

    async def _pod_owners(self, namespace: str, pods: list[Any]) -> None:
        """Refuse pods whose Deployment (by its selector) is paused or, when opt-in is required,
        pods that neither carry the annotation nor belong to a Deployment that does."""
        listed = await self._call(
            f"list deployments in {namespace}", self.apps.list_namespaced_deployment, namespace
        )
        for pod in pods:
            pod_labels = pod.metadata.labels or {}
            owners = [
                d
                for d in listed.items
                if d.spec.selector.match_labels
                and all(pod_labels.get(k) == v for k, v in d.spec.selector.match_labels.items())
            ]
            for owner in owners:
                if owner.spec.paused:
                    raise GuardrailRefused(
                        f"pod {pod.metadata.name}: the rollout of deployment/{owner.metadata.name} is paused"
                    )
            self._opted_in(f"pod {pod.metadata.name} in {namespace}", pod, *owners)

    async def delete_pods(
        self,
        namespace: str,
        *,
        names: list[str] | None = None,
        labels: dict[str, str] | None = None,
        max_count: int = 1,
        key: str,
        created_before: float | None = None,
    ) -> dict[str, Any]:
        """Delete pods by name or by an equality label selector, at most `max_count` of them,
        within the budgets. `created_before` (a resumed deletion) spares pods created since."""
        self._allowed(namespace)
        limit = min(max_count, self.max_pod_deletes)
        pods = [
            p
            for p in await self._pods(namespace, names, labels)
            if not p.metadata.deletion_timestamp  # already terminating
            and (created_before is None or _created(p) <= created_before)
        ]
        if len(pods) > limit:
            raise GuardrailRefused(f"{len(pods)} pods match, more than the limit of {limit}")
        if not pods:
            return {"deleted": []}
        await self._pod_owners(namespace, pods)
        targets = sorted(p.metadata.name for p in pods)
        await self.budget.take(namespace, "pods", [f"{key}:{pod}" for pod in targets])
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
