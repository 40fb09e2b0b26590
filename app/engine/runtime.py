"""Wires one replica's parts together: Redis clients, stores, queue, dispatcher and workers."""

from __future__ import annotations

from dataclasses import dataclass

from app.actions import outside
from app.actions.flags import FlagStore
from app.connection import Clients, connect
from app.engine.dispatch import Dispatcher
from app.engine.executions import ExecutionStore
from app.engine.followups import FollowUps
from app.engine.queue import AlertQueue
from app.engine.workers import WorkerPool
from app.keys import Keys
from app.plugins import loader
from app.plugins.registry import Registry
from app.settings import Settings


@dataclass
class Runtime:
    """Everything a replica runs, built from settings (no I/O until `start`)."""

    settings: Settings
    clients: Clients
    keys: Keys
    registry: Registry
    flags: FlagStore
    executions: ExecutionStore
    queue: AlertQueue
    dispatcher: Dispatcher
    workers: WorkerPool

    @classmethod
    def build(cls, settings: Settings, registry: Registry | None = None) -> Runtime:
        """Load playbooks (raising PlaybookError on a bad one) and construct the parts."""
        if registry is None:
            registry = loader.load(settings.playbook_paths, use_entry_points=settings.playbook_entry_points)
        clients = connect(settings)
        redis = clients.commands
        keys = Keys(settings.redis_namespace)
        flags = FlagStore(
            redis,
            prefix=settings.flag_prefix,
            namespace=settings.redis_namespace,
            grace_s=settings.lease_grace,
        )
        executions = ExecutionStore(
            redis, keys, max_len=settings.executions_max_len, ttl_s=settings.execution_ttl
        )
        queue = AlertQueue(
            redis,
            keys,
            max_len=settings.queue_max_len,
            dedup_ttl_s=settings.dedup_ttl,
            blocking=clients.blocking,
        )
        dispatcher = Dispatcher(
            registry=registry,
            redis=redis,
            keys=keys,
            settings=settings,
            flags=flags,
            executions=executions,
            followups=FollowUps(redis, keys),
        )
        workers = WorkerPool(
            queue,
            dispatcher,
            concurrency=settings.workers,
            claim_idle_s=settings.claim_idle,
            max_deliveries=settings.max_deliveries,
            shutdown_grace_s=settings.shutdown_grace,
        )
        return cls(settings, clients, keys, registry, flags, executions, queue, dispatcher, workers)

    async def start(self, *, run_workers: bool = True) -> None:
        """Connect the outside-system adapters and start consuming the queue."""
        self.dispatcher.adapters = await outside.build(self.settings, self.clients.commands)
        if run_workers:
            await self.workers.start()

    async def stop(self, *, run_workers: bool = True) -> None:
        """Finish or hand back in-flight work, then close connections."""
        if run_workers:
            await self.workers.stop()
        await self.dispatcher.adapters.close()
        await self.clients.close()
