"""`/api`: playbooks, flags, executions and simulation for operators (viewer reads, operator writes)."""

from __future__ import annotations

import time
from typing import Any

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.exceptions import ClientException, HTTPException, NotFoundException
from litestar.params import FromPath, FromQuery, JSONBody, Parameter

from app.actions.flags import PAUSED_FLAG, InvalidFlagName
from app.durations import parse_moment
from app.engine.approvals import Decision, Pending
from app.engine.triggers import Plan
from app.jobs.cost_exporter import user_label
from app.models import ActionRecord, Alert, Execution
from app.plugins.overview import playbook_view
from app.web import finding, operations
from app.web.auth import actor_of, operator, reader
from app.web.deps import RuntimeDep
from app.web.holders import history, holders
from app.web.limits import bounded_json
from app.web.readable import Holder
from app.web.webhook import parse_payload


class PlaybookInfo(msgspec.Struct):
    """A registered playbook as operators see it."""

    name: str
    match: str
    on: str
    cooldown_s: float | None
    cooldown: str | None
    dry_run: bool
    timeout_s: float | None
    timeout: str | None
    description: str
    source: str
    params_schema: dict[str, Any] | None
    paused: bool = False  # the kill switch is on: a run would be recorded refused


class LaneDepth(msgspec.Struct):
    """One priority lane's backlog: entries not yet read, read but unfinished, oldest age."""

    lag: int
    pending: int
    oldest_age_s: float


class QueueInfo(msgspec.Struct):
    """The work queue's backlog, in total and per priority lane (`high`, `normal`)."""

    lag: int
    pending: int
    oldest_age_s: float
    lanes: dict[str, LaneDepth]


class HolderInfo(msgspec.Struct, omit_defaults=True):
    """Who a lease holder is, for people: the alert (name, key labels, links) or the operator."""

    kind: str
    name: str
    label: str
    detail: str = ""
    execution_id: str | None = None
    alertmanager_url: str | None = None
    generator_url: str | None = None


class LeaseInfo(msgspec.Struct):
    """One holder's lease on a flag."""

    holder: str
    value: str
    set_at: float
    expires_at: float
    held_by: HolderInfo | None = None


class FlagInfo(msgspec.Struct):
    """A flag under mitigation: effective value, what it returns to, who holds it."""

    name: str
    value: str | None
    baseline: str | None
    baseline_absent: bool
    leases: list[LeaseInfo]


class ChangeInfo(msgspec.Struct):
    """One change of a flag's effective value."""

    flag: str
    value: str | None
    at: float
    reason: str
    holder: str | None  # whose lease decides the value after it; None = back at baseline
    held_by: HolderInfo | None = None


class PeriodInfo(msgspec.Struct):
    """A time a flag held one leased value (`end` None: it still holds)."""

    flag: str
    value: str | None
    start: float
    end: float | None
    holder: str
    held_by: HolderInfo | None = None


class FlagHistoryInfo(msgspec.Struct):
    """Flag changes and leased periods in [since, until]."""

    since: float
    until: float
    changes: list[ChangeInfo]
    periods: list[PeriodInfo]


class Reverted(msgspec.Struct):
    """The outcome of an operator revert."""

    flag: str
    leases_ended: int
    value: str | None
    execution_id: str


class JobInfo(msgspec.Struct):
    """A scheduled job: its schedule, next and last run."""

    id: str
    description: str
    schedule: str
    next_run: float | None
    last_run: dict[str, Any] | None


class Jobs(msgspec.Struct):
    """The jobs and which replica leads the scheduler."""

    leader: str | None
    this_replica: str
    jobs: list[JobInfo]


class Triggered(msgspec.Struct):
    """A queued manual run."""

    execution_id: str


class Decided(msgspec.Struct):
    """An optional comment with an approval decision."""

    comment: str = ""


class PlanInfo(msgspec.Struct):
    """What one playbook would do for one alert."""

    playbook: str
    would_run: bool
    skipped_reason: str | None
    error: str | None
    actions: list[ActionRecord]


class AlertPlan(msgspec.Struct):
    """The plan for one alert of a simulated payload."""

    alertname: str
    status: str
    fingerprint: str
    playbooks: list[PlanInfo]


class Simulation(msgspec.Struct):
    """A dry-run plan for a whole payload; nothing was changed."""

    alerts: list[AlertPlan]


def _holder_info(h: Holder) -> HolderInfo:
    return HolderInfo(h.kind, h.title, h.label, h.detail, h.execution_id, h.alertmanager_url, h.generator_url)


def _plan_info(plan: Plan) -> PlanInfo:
    return PlanInfo(plan.playbook, plan.would_run, plan.skipped_reason, plan.error, plan.actions)


class CostLabel(msgspec.Struct):
    """The `user_id` label a user's spend is exported under."""

    user_id: str
    label: str
    mode: str


class ApiController(Controller):
    """Operator API."""

    path = "/api"
    tags = ["api"]

    @get("/playbooks", guards=[reader])
    async def list_playbooks(self, runtime: RuntimeDep) -> list[PlaybookInfo]:
        """Every registered playbook with its match rule and options (`app.plugins.overview`), and
        whether the kill switch is on (a run would be recorded refused)."""
        paused = (await runtime.pause.get()).paused
        return [PlaybookInfo(**playbook_view(spec), paused=paused) for spec in runtime.registry]

    @get("/queue", guards=[reader])
    async def queue_depth(self, runtime: RuntimeDep) -> QueueInfo:
        """Backlog of the work queue, in total and per priority lane."""
        depth = await runtime.queue.depth()
        lanes = {
            name: LaneDepth(lane.lag, lane.pending, round(lane.oldest_age_s, 3))
            for name, lane in (depth.lanes or {}).items()
        }
        return QueueInfo(depth.lag, depth.pending, round(depth.oldest_age_s, 3), lanes)

    @get("/flags", guards=[reader])
    async def list_flags(self, runtime: RuntimeDep) -> list[FlagInfo]:
        """Flags with leases: the active mitigations (and the kill switch while it is on)."""
        states = await runtime.flags.active()
        named = await holders(runtime, states)
        pause = await runtime.pause.get()
        switch = [FlagInfo(PAUSED_FLAG, "true", None, True, [])] if pause.paused else []
        return switch + [
            FlagInfo(
                name=s.name,
                value=s.value,
                baseline=s.baseline,
                baseline_absent=s.baseline_absent,
                leases=[
                    LeaseInfo(
                        lease.holder,
                        lease.value,
                        lease.set_at_ms / 1000,
                        lease.expires_at_ms / 1000,
                        _holder_info(named[(s.name, lease.holder)]),
                    )
                    for lease in s.leases
                ],
            )
            for s in states
        ]

    @get("/flags/history", guards=[reader])
    async def flag_history(
        self,
        runtime: RuntimeDep,
        since: str = Parameter(default="24h", description="ISO-8601, epoch seconds or an age (24h)"),
        until: str | None = Parameter(default=None, description="ISO-8601, epoch seconds or an age"),
    ) -> FlagHistoryInfo:
        """Every flag value change in the window (default the last 24 h), oldest first, and the
        periods each flag held a leased value, with holders named by alert or operator."""
        now = time.time()
        try:
            start = parse_moment(since, now)
            end = parse_moment(until, now) if until else now
        except ValueError as exc:
            raise ClientException(str(exc)) from None
        if start > end:
            raise ClientException("since is after until")
        periods, changes, named = await history(runtime, start, end)
        return FlagHistoryInfo(
            start,
            end,
            [
                ChangeInfo(
                    c.flag,
                    c.value,
                    c.at,
                    c.reason,
                    c.holder or None,
                    _holder_info(named[(c.flag, c.holder)]) if (c.flag, c.holder) in named else None,
                )
                for c in changes
            ],
            [
                PeriodInfo(p.flag, p.value, p.start, p.end, p.holder, _holder_info(named[(p.flag, p.holder)]))
                for p in periods
            ],
        )

    @delete("/flags/{name:str}", guards=[operator], status_code=200)
    async def revert_flag(
        self, runtime: RuntimeDep, request: Request[Any, Any, Any], name: FromPath[str]
    ) -> Reverted:
        """End every lease on a flag now and restore its baseline (recorded as an execution)."""
        if name == PAUSED_FLAG:
            raise HTTPException(
                f"{PAUSED_FLAG} is the kill switch, not a mitigation: resume with DELETE /api/pause"
                " (`autonomic resume`)",
                status_code=409,
            )
        try:
            ended, value, execution = await operations.revert(runtime, name, actor_of(request))
        except InvalidFlagName as exc:
            raise ClientException(str(exc)) from None
        except operations.NothingToRevert:
            raise NotFoundException(f"flag {name!r} has no active lease") from None
        return Reverted(name, ended, value, execution)

    @post("/playbooks/{name:str}/trigger", guards=[operator], status_code=202, before_request=bounded_json)
    async def trigger_playbook(
        self,
        runtime: RuntimeDep,
        request: Request[Any, Any, Any],
        name: FromPath[str],
        data: JSONBody[operations.TriggerRequest],
    ) -> Triggered:
        """Run one playbook now through the queue (labels, annotations, params, dry_run, reason)."""
        try:
            execution = await operations.trigger(runtime, name, data, actor_of(request))
        except operations.UnknownPlaybook:
            raise NotFoundException(f"no playbook {name!r}") from None
        except operations.InvalidParams as exc:
            raise HTTPException(
                f"invalid params: {exc}", status_code=422, extra={"errors": exc.errors}
            ) from None
        return Triggered(execution)

    @get("/approvals", guards=[reader])
    async def list_approvals(self, runtime: RuntimeDep) -> list[Pending]:
        """Executions waiting at an approval gate."""
        return await runtime.approvals.pending()

    @post(
        "/executions/{execution_id:str}/approve",
        guards=[operator],
        status_code=200,
        before_request=bounded_json,
    )
    async def approve(
        self,
        runtime: RuntimeDep,
        request: Request[Any, Any, Any],
        execution_id: FromPath[str],
        data: JSONBody[Decided | None] = None,
    ) -> Pending:
        """Approve the gate this execution waits at; it resumes through the queue."""
        return await self._decide(runtime, request, execution_id, "approve", data)

    @post(
        "/executions/{execution_id:str}/reject",
        guards=[operator],
        status_code=200,
        before_request=bounded_json,
    )
    async def reject(
        self,
        runtime: RuntimeDep,
        request: Request[Any, Any, Any],
        execution_id: FromPath[str],
        data: JSONBody[Decided | None] = None,
    ) -> Pending:
        """Reject the gate this execution waits at; it ends as rejected."""
        return await self._decide(runtime, request, execution_id, "reject", data)

    async def _decide(
        self,
        runtime: RuntimeDep,
        request: Request[Any, Any, Any],
        execution_id: str,
        decision: Decision,
        data: Decided | None,
    ) -> Pending:
        comment = data.comment if data else ""
        decided = await operations.decide(runtime, execution_id, decision, actor_of(request), comment)
        if decided is None:
            raise NotFoundException(f"execution {execution_id!r} is not waiting for approval")
        return decided

    @get("/executions", guards=[reader])
    async def list_executions(
        self,
        runtime: RuntimeDep,
        limit: int = Parameter(default=50, ge=1, le=1000),
        offset: int = Parameter(default=0, ge=0, le=100_000),
        playbook: FromQuery[str | None] = None,
        alertname: FromQuery[str | None] = None,
        status: FromQuery[str | None] = None,
        since: str | None = Parameter(default=None, description="ISO-8601, epoch seconds or an age (2h)"),
        until: str | None = Parameter(default=None, description="ISO-8601, epoch seconds or an age (2h)"),
    ) -> list[Execution]:
        """Finished executions, newest first, filtered by playbook, alert name, status and the
        time they finished (since/until); page with limit and offset."""
        raw = {"playbook": playbook, "alertname": alertname, "status": status, "since": since}
        try:
            query = finding.query_of({**raw, "until": until, "offset": offset}, limit=limit)
        except ValueError as exc:
            raise ClientException(str(exc)) from None
        return await runtime.executions.recent(**query.store_args())

    @get("/executions/{execution_id:str}", guards=[reader])
    async def get_execution(self, runtime: RuntimeDep, execution_id: FromPath[str]) -> Execution:
        """One execution with every action it took."""
        execution = await runtime.executions.get(execution_id)
        if execution is None:
            raise NotFoundException(f"no execution {execution_id!r}")
        return execution

    @get("/jobs", guards=[reader])
    async def list_jobs(self, runtime: RuntimeDep) -> Jobs:
        """Scheduler jobs: last run, result, next run, and the replica that leads."""
        scheduler = runtime.scheduler
        return Jobs(
            leader=await scheduler.leader(),
            this_replica=scheduler.replica,
            jobs=[JobInfo(**job) for job in await scheduler.status()],
        )

    @post("/jobs/{job_id:str}/run", guards=[operator], status_code=200)
    async def run_job(self, runtime: RuntimeDep, job_id: FromPath[str]) -> dict[str, Any]:
        """Run a job now on this replica and return its outcome."""
        scheduler = runtime.scheduler
        if job_id not in scheduler.jobs:
            raise NotFoundException(f"no job {job_id!r}")
        if scheduler.running(job_id):
            raise ClientException(f"job {job_id!r} is already running", status_code=409)
        run = await scheduler.run(job_id, manual=True)
        if run is None:
            raise ClientException(f"job {job_id!r} is already running", status_code=409)
        return msgspec.to_builtins(run)  # type: ignore[no-any-return]

    @get("/cost/user-label", guards=[reader])
    async def cost_user_label(self, runtime: RuntimeDep, user_id: FromQuery[str]) -> CostLabel:
        """The `user_id` label of the ai_* cost gauges for one user (a keyed hash when
        AUTONOMIC_COST_USER_LABEL=hash, else the id itself)."""
        if runtime.settings.cost_user_label == "raw":
            return CostLabel(user_id, user_id, "raw")
        key = (await runtime.keyring.get()).key("cost-user-label")
        return CostLabel(user_id, user_label(key, user_id), "hash")

    @post("/alerts/simulate", guards=[reader], status_code=200)
    async def simulate(self, runtime: RuntimeDep, request: Request[Any, Any, Any]) -> Simulation:
        """Dry-run plan for an Alertmanager payload: matching playbooks and what each would do."""
        payload = parse_payload(await request.body())
        alerts = []
        for item in payload.alerts:
            alert = Alert.from_webhook(item, payload)
            plans = await runtime.dispatcher.plan(alert)
            alerts.append(
                AlertPlan(alert.name, alert.status, alert.fingerprint, [_plan_info(p) for p in plans])
            )
        return Simulation(alerts)
