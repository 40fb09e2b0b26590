"""The kmock Kubernetes emulator on a background event loop, reachable by a service subprocess
through a kubeconfig file. kmock ignores label selectors and does plain merge patches,
so tests assert the request parameters too."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import kmock
import yaml

DEPLOYMENTS = "apps/v1/deployments"


def deployment(name: str, namespace: str, *, paused: bool = False, replicas: int = 2) -> dict[str, Any]:
    """A Deployment object complete enough for the typed client to parse."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}"},
        "spec": {
            "replicas": replicas,
            "paused": paused,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": f"{name}:1"}]},
            },
        },
    }


class KubeEmulator:
    """kmock's KubernetesEmulator served on a free port from its own thread."""

    def __init__(self) -> None:
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.k: Any = None
        self.url = ""
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("kmock did not start")

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        self.loop = asyncio.get_running_loop()
        async with kmock.KubernetesEmulator() as k, kmock.Server(k) as server:
            self.k, self.url = k, str(server.url).rstrip("/")
            self._ready.set()
            await self._stop.wait()

    def run(self, fn: Callable[[Any], Any]) -> Any:
        """Run `fn(emulator)` on the emulator's loop (for setup and reactions)."""
        assert self.loop is not None

        async def call() -> Any:
            return fn(self.k)

        future: concurrent.futures.Future[Any] = asyncio.run_coroutine_threadsafe(call(), self.loop)
        return future.result(10)

    def add(self, obj: dict[str, Any], resource: str = DEPLOYMENTS) -> None:
        meta = obj["metadata"]

        def put(k: Any) -> None:
            k.objects[resource, meta["namespace"], meta["name"]] = obj

        self.run(put)

    def get(self, name: str, namespace: str, resource: str = DEPLOYMENTS) -> dict[str, Any]:
        return dict(self.run(lambda k: dict(k.objects[resource, namespace, name])))

    def requests(self, method: str | None = None, path_part: str = "") -> list[dict[str, Any]]:
        def collect(k: Any) -> list[dict[str, Any]]:
            return [
                {
                    "method": str(r.method).upper().split(".")[-1],
                    "path": r.url.path,
                    "params": dict(r.params),
                    "headers": dict(r.headers),
                    "data": r.data,
                }
                for r in list(k)
            ]

        found = self.run(collect)
        return [
            r for r in found if (method is None or r["method"] == method.upper()) and path_part in r["path"]
        ]

    def hold_patches(self, resource: str = DEPLOYMENTS) -> tuple[threading.Event, threading.Event]:
        """Hold every PATCH of `resource` open until `release` is set (`held` tells one arrived);
        the patch is then applied as usual (the reaction returns nothing, so kmock goes on)."""
        held, release = threading.Event(), threading.Event()

        async def gate() -> None:
            held.set()
            while not release.is_set():
                await asyncio.sleep(0.01)

        self.run(lambda k: k[kmock.method.PATCH, kmock.resource(resource)] << gate)
        return held, release

    def kubeconfig(self, directory: Path) -> Path:
        path = directory / "kubeconfig"
        path.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": "kmock", "cluster": {"server": self.url}}],
                    "users": [{"name": "autonomic", "user": {"token": "kmock-token"}}],
                    "contexts": [{"name": "kmock", "context": {"cluster": "kmock", "user": "autonomic"}}],
                    "current-context": "kmock",
                }
            )
        )
        return path

    def stop(self) -> None:
        if self.loop is not None and self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
