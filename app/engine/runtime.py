"""Wires one replica's parts together: Redis clients, stores, queue, dispatcher, workers,
the outside-system adapters and the leader-elected scheduler with its jobs.

Every part is built once, here, and handed to the consumers that need it; nothing is
swapped in later. `start` only connects what needs I/O (the Kubernetes client, the flag view)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import structlog
from apscheduler.triggers.interval import IntervalTrigger
from redis.asyncio import Redis

from app import metrics
from app.actions import flag_catalogue, outside
from app.actions.alertmanager import AlertmanagerClient
from app.actions.flag_view import FlagView
from app.actions.flags import FlagStore
from app.actions.guardrails import KubeBudget
from app.actions.lease_origins import LeaseOrigins
from app.actions.outside import Adapters
from app.connection import Clients, connect
from app.engine.approvals import ApprovalStore
from app.engine.cooldowns import Cooldowns
from app.engine.dispatch import DispatchConfig, Dispatcher
from app.engine.executions import ExecutionStore
from app.engine.firing import FiringAlerts
from app.engine.followups import FollowUps
from app.engine.keyring import KeyringSource
from app.engine.lanes import LanePolicy
from app.engine.pause import PauseStore
from app.engine.queue import AlertQueue
from app.engine.reconciler import Reconciler
from app.engine.scheduler import JobDef, LeaderScheduler, parse_trigger
from app.engine.state_metrics import StateCollector, StateMetrics
from app.engine.tombstones import Tombstones
from app.engine.workers import WorkerPool
from app.jobs import lifecycle, sweeper
from app.jobs.cost_exporter import CostExporter, SnapshotCollector
from app.jobs.cost_sources import RedisCostSource, Source, SqlCostSource
from app.keys import Keys
from app.plugins import loader
from app.plugins.registry import Registry
from app.settings import Settings

log = structlog.get_logger(__name__)
SNAPSHOT_REFRESH_S = 5.0


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
    scheduler: LeaderScheduler
    flag_view: FlagView
    keyring: KeyringSource
    firing: FiringAlerts
    pause: PauseStore
    reconciler: Reconciler
    approvals: ApprovalStore
    followups: FollowUps
    adapters: Adapters
    guardrails: KubeBudget
    origins: LeaseOrigins
    cost: CostExporter | None = None
    state: StateMetrics | None = None
    _closers: list[Any] = field(default_factory=list)
    _refresh: asyncio.Task[None] | None = None

    @classmethod
    def build(
        cls, settings: Settings, registry: Registry | None = None, *, adapters: Adapters | None = None
    ) -> Runtime:
        """Load playbooks (raising PlaybookError on a bad one) and construct the parts; `adapters`
        replaces the outside-system adapters the settings describe (app.testing: none at all)."""
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
            wait_replicas=settings.redis_wait_replicas,
            wait_timeout_s=settings.redis_timeout / 2,
            lanes=LanePolicy(settings.priority_high_match, settings.priority_normal_share),
        )
        firing = FiringAlerts(redis, keys, flags, dedup_ttl_s=settings.dedup_ttl, lanes=queue.lanes)
        pause = PauseStore(redis, keys, flags)
        followups = FollowUps(redis, keys)
        approvals = ApprovalStore(redis, keys, timeout_s=settings.approval_timeout)
        if adapters is None:
            adapters = outside.configure(settings)  # Kubernetes connects on start
        alertmanager = AlertmanagerClient.from_settings(settings)
        origins = LeaseOrigins(redis, keys, ttl_s=settings.execution_ttl)
        dispatcher = Dispatcher(
            registry=registry,
            config=DispatchConfig.from_settings(settings),
            adapters=adapters,
            redis=redis,
            keys=keys,
            flags=flags,
            executions=executions,
            followups=followups,
            approvals=approvals,
            firing=firing,
            cooldowns=Cooldowns(redis, keys),
            # As long as repeats of the notification are deduplicated: late firing work for a
            # resolved episode is refused for the same window.
            tombstones=Tombstones(redis, keys, ttl_s=settings.dedup_ttl),
            origins=origins,
            alertmanager=alertmanager,
        )
        workers = WorkerPool(
            queue,
            dispatcher,
            followups=followups,
            approvals=approvals,
            concurrency=settings.workers,
            claim_idle_s=settings.claim_idle,
            max_deliveries=settings.max_deliveries,
            shutdown_grace_s=settings.shutdown_grace,
            intake_permits=settings.intake_busy_permits,
            intake_wait_s=settings.intake_busy_wait,
            high_reserve=settings.high_lane_workers,
        )
        scheduler = LeaderScheduler(
            redis, settings.redis_namespace, replica=workers.consumer, lock_ttl_s=settings.leader_ttl
        )
        # What OFREP answers from: flag values in memory, fed by the changes channel.
        flag_view = FlagView(
            redis,
            prefix=settings.flag_prefix,
            index_key=flags.index_key,
            tracked=flag_catalogue.declared_names(),
        )
        state = StateMetrics(redis, keys, paused_key=flags.paused_key, queue_depth=queue.depth)
        metrics.plug("state", StateCollector(state))
        session_secret = settings.session_secret.get_secret_value() if settings.session_secret else None
        keyring = KeyringSource(redis, keys.session_secret, session_secret)
        reconciler = Reconciler(
            firing,
            pause,
            alertmanager,
            queue,
            redact=adapters.redact,
            resolve_after_s=settings.reconcile_resolve_after,
        )
        return cls(
            settings,
            clients,
            keys,
            registry,
            flags,
            executions,
            queue,
            dispatcher,
            workers,
            scheduler,
            flag_view,
            keyring,
            state=state,
            firing=firing,
            pause=pause,
            reconciler=reconciler,
            approvals=approvals,
            followups=followups,
            adapters=adapters,
            guardrails=outside.kube_budget(settings, redis),
            origins=origins,
        )

    # -- jobs -----------------------------------------------------------------------------

    def _cost_source(self) -> Source:
        source = self.settings.cost_source
        if source == "redis":
            redis: Redis = self.clients.commands
            if self.settings.cost_redis_url:
                redis = Redis.from_url(self.settings.cost_redis_url, decode_responses=True)
                self._closers.append(redis.aclose)
            return RedisCostSource(redis, self.settings.cost_key_prefix)
        if source.startswith("postgresql"):
            pg = SqlCostSource(source, self.settings.cost_table, self.settings.cost_columns)
            self._closers.append(pg.close)
            return pg
        raise ValueError(
            f"AUTONOMIC_COST_SOURCE must be 'redis' or a postgresql+asyncpg:// URL, not {source!r}"
        )

    def _retention(self) -> lifecycle.IndexRetention | None:
        s = self.settings
        if not s.es_url or not s.es_index_prefixes:
            return None
        headers = {"Authorization": f"ApiKey {s.es_api_key.get_secret_value()}"} if s.es_api_key else {}
        auth = (s.es_username, s.es_password.get_secret_value()) if s.es_username and s.es_password else None
        client = httpx.AsyncClient(
            base_url=s.es_url,
            headers=headers,
            auth=auth,
            timeout=s.action_timeout,
            verify=str(s.es_ca_bundle) if s.es_ca_bundle else True,
        )
        self._closers.append(client.aclose)
        return lifecycle.IndexRetention(
            client, s.es_index_prefixes, s.es_retention_days, s.es_snapshot_repository, s.es_dry_run
        )

    def _define_jobs(self) -> None:
        s, keys = self.settings, self.keys
        self.cost = CostExporter(
            self.clients.commands,
            self._cost_source(),
            snapshot_key=keys.cost_snapshot,
            top_users=s.cost_top_users,
        )
        metrics.plug("cost", SnapshotCollector(self.cost))
        retention = self._retention()
        cost = self.cost

        async def cost_exporter() -> dict[str, Any]:
            label_key = None
            if s.cost_user_label == "hash":
                label_key = (await self.keyring.get()).key("cost-user-label")
            return await cost.compute(label_key=label_key)

        async def lease_sweeper() -> dict[str, Any]:
            # Renew first: a lease of an alert seen firing must not be swept as expired.
            renewed = await self.firing.renew()
            return {"renewed": renewed, **await sweeper.sweep(self.flags, self.executions)}

        async def reconcile() -> dict[str, Any]:
            return await self.reconciler.run()

        async def data_lifecycle() -> dict[str, Any]:
            result: dict[str, Any] = {
                "trimmed": await lifecycle.trim_streams(
                    self.clients.commands,
                    # An id outliving its record (EXECUTION_TTL) would list nothing.
                    {
                        keys.executions: min(s.execution_retention, s.execution_ttl),
                        keys.dead: s.dead_letter_retention,
                    },
                ),
                "idle_flags_forgotten": await lifecycle.prune_flag_metrics(
                    self.clients.commands, keys, s.execution_retention
                ),
            }
            if retention is not None:
                result["indices"] = await retention.run()
            return result

        for job_id, spec, fn, description in (
            ("cost_exporter", s.job_cost_exporter, cost_exporter, "LLM spend → ai_* gauges"),
            (
                "lease_sweeper",
                s.job_lease_sweeper,
                lease_sweeper,
                "end expired flag leases, restore baselines",
            ),
            (
                "lifecycle",
                s.job_lifecycle,
                data_lifecycle,
                "trim streams by age; Elasticsearch index retention",
            ),
        ):
            self.scheduler.add(JobDef(job_id, parse_trigger(spec), fn, description))
        interval = s.reconcile_seconds
        self.scheduler.add(
            JobDef(
                "reconciler",
                IntervalTrigger(seconds=interval, timezone=UTC) if interval else None,
                reconcile,
                "renew leases of alerts Alertmanager reports active, resolve those it no longer "
                "reports, re-apply after a pause",
                # The first pass runs as soon as a replica leads (after a restart, say).
                first_run=datetime.now(UTC),
            )
        )
        if not s.alertmanager_urls:
            log.warning(
                "AUTONOMIC_ALERTMANAGER_URLS is not set: flag leases are renewed by notifications "
                "alone, so Alertmanager's repeat_interval must stay below the shortest flag lease TTL"
            )
        elif interval is None:
            log.warning("AUTONOMIC_RECONCILE_INTERVAL is off: nothing asks Alertmanager what still fires")

    async def _refresh_snapshot(self) -> None:
        while True:
            if self.cost is not None:
                with contextlib.suppress(Exception):
                    await self.cost.refresh()
            await asyncio.sleep(SNAPSHOT_REFRESH_S)

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self, *, run_workers: bool = True) -> None:
        """Connect the adapters, define the jobs, start the scheduler and the workers.

        If any step fails, what already started is stopped before the error propagates: a
        replica that cannot start must not keep running jobs or hold the leader lock.
        """
        try:
            await self._start(run_workers)
        except BaseException:
            with contextlib.suppress(Exception):
                await self.stop(run_workers=run_workers)
            raise

    async def _start(self, run_workers: bool) -> None:
        await self.adapters.connect(self.settings, self.guardrails)
        self._define_jobs()
        await self.flag_view.start()
        # Everything loaded so far (modules, playbooks, clients) lives as long as the process:
        # move it out of the collector's sight, so collections under load scan only new objects.
        gc.collect()
        gc.freeze()
        if run_workers:
            await self.scheduler.start()
            self._refresh = asyncio.create_task(self._refresh_snapshot(), name="autonomic-cost-refresh")
            await self.workers.start()

    async def stop(self, *, run_workers: bool = True) -> None:
        """Finish or hand back in-flight work, give up leadership, then close connections."""
        if run_workers:
            await self.workers.stop()
            await self.scheduler.stop()
            if self._refresh is not None:
                self._refresh.cancel()
        await self.flag_view.stop()
        await self.adapters.close()
        if self.reconciler.alertmanager is not None:
            await self.reconciler.alertmanager.close()
        for close in self._closers:
            with contextlib.suppress(Exception):
                await close()
        await self.clients.close()
