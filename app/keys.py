"""Names of every Redis key Autonomic reads or writes: `Keys` under `AUTONOMIC_REDIS_NAMESPACE`,
`FlagKeys` under the flag prefix (`AUTONOMIC_FLAG_PREFIX`, the keys applications read) and
`CostKeys`, the cost tracker's keys the cost exporter reads (`AUTONOMIC_COST_KEY_PREFIX`).

Nothing else builds a key name (tests/unit/test_key_registry.py checks every module and
every Lua script). A script that can only find a key while it runs (a follow-up due now, a
holder's flags) gets the key of the empty member — `Keys.followup("")` is `{ns}followup:` —
in KEYS[] and appends the member to that name; its header says so.
"""

from __future__ import annotations

from dataclasses import dataclass

GROUP = "workers"


@dataclass(frozen=True, slots=True)
class Keys:
    """Key names for one namespace (default `autonomic:`)."""

    ns: str

    @property
    def alerts(self) -> str:
        """Stream of accepted alert notifications: the normal-priority lane of the work queue."""
        return f"{self.ns}alerts"

    def lane(self, lane: str) -> str:
        """The work-queue stream of one priority lane (`normal` keeps the historic `alerts` name)."""
        return self.alerts if lane == "normal" else f"{self.ns}alerts:{lane}"

    @property
    def dead(self) -> str:
        """Dead-letter stream: entries whose execution failed after the last try."""
        return f"{self.ns}dead"

    @property
    def executions(self) -> str:
        """Capped stream of finished execution records, newest last."""
        return f"{self.ns}executions"

    def execution(self, execution_id: str) -> str:
        """The latest state of one execution (JSON, with a retention TTL)."""
        return f"{self.ns}exec:{execution_id}"

    def actions(self, execution_id: str) -> str:
        """Hash of completed action records of one execution, by action index."""
        return f"{self.ns}exec:{execution_id}:actions"

    def dedup(self, event_key: str) -> str:
        """Marker that one (fingerprint, status, startsAt) notification was accepted."""
        return f"{self.ns}dedup:{event_key}"

    def cooldown(self, playbook: str, labels_fingerprint: str) -> str:
        """Cooldown marker per (playbook, alert labels)."""
        return f"{self.ns}cooldown:{playbook}:{labels_fingerprint}"

    def incident(self, fingerprint: str) -> str:
        """The PagerDuty dedup key of an alert we paged for (so its resolve resolves it)."""
        return f"{self.ns}incident:{fingerprint}"

    def thread(self, fingerprint: str) -> str:
        """The Slack channel and ts of an alert's first message (replies go in its thread)."""
        return f"{self.ns}thread:{fingerprint}"

    def thread_closer(self, fingerprint: str, ts: str) -> str:
        """Who replies "Resolved" in one Slack thread (the resolve or a late post): first to set it."""
        return f"{self.ns}thread-closer:{fingerprint}:{ts}"

    @property
    def followups(self) -> str:
        """Sorted set of scheduled follow-ups by due time."""
        return f"{self.ns}followups"

    def followup(self, key: str) -> str:
        """One scheduled follow-up: playbook, alert, event key."""
        return f"{self.ns}followup:{key}"

    def followups_of(self, fingerprint: str) -> str:
        """The follow-ups scheduled for one alert (cancelled on resolve)."""
        return f"{self.ns}followups-of:{fingerprint}"

    def resolved(self, fingerprint: str, starts_at: str) -> str:
        """Tombstone: this alert episode has resolved, so late firing work takes no lease."""
        return f"{self.ns}resolved:{fingerprint}:{starts_at}"

    @property
    def leases(self) -> str:
        """Sorted set of flags with leases by next expiry (written by flags.lua)."""
        return f"{self.ns}leases"

    @property
    def flag_changes(self) -> str:
        """Hash `{flag}|{reason}` -> count of effective-value changes (written by flags.lua)."""
        return f"{self.ns}flag-changes"

    @property
    def flag_changed_at(self) -> str:
        """Hash flag -> time (ms) of its last value change (written by flags.lua)."""
        return f"{self.ns}flag-changed-at"

    @property
    def flag_history(self) -> str:
        """Capped stream of every flag value change, with the holder after it (written by flags.lua)."""
        return f"{self.ns}flag-history"

    def lease_origin(self, holder: str, flag: str) -> str:
        """Which execution (alert, operator, reason) took `holder`'s lease on `flag` (JSON)."""
        return f"{self.ns}lease-origin:{holder}:{flag}"

    @property
    def job_successes(self) -> str:
        """Hash job id -> time of its last successful run."""
        return f"{self.ns}job-successes"

    def kube_budgets(self, namespace: str, workload: str) -> list[str]:
        """Sliding windows of Kubernetes writes (budget.lua): per workload, per namespace, in total."""
        return [
            f"{self.ns}budget:kube:workload:{namespace}/{workload}",
            f"{self.ns}budget:kube:namespace:{namespace}",
            f"{self.ns}budget:kube:total",
        ]

    @property
    def session_secret(self) -> str:
        """The random secret console sessions and CSRF tokens are signed with (no TTL)."""
        return f"{self.ns}session-secret"

    def login_failures(self, scope: str, digest: str) -> str:
        """Failed console logins in the current window, per client address or per name (hashed)."""
        return f"{self.ns}login-failures:{scope}:{digest}"

    @property
    def seen(self) -> str:
        """Sorted set: fingerprint -> when a notification or Alertmanager's API last showed it firing."""
        return f"{self.ns}seen"

    @property
    def renewed_until(self) -> str:
        """The `seen` score up to which the lease renewal has already run (ms)."""
        return f"{self.ns}seen:renewed-until"

    @property
    def tracked(self) -> str:
        """Hash: fingerprint -> the firing alert (JSON) whose mitigations the reconciler watches."""
        return f"{self.ns}tracked"

    @property
    def absent(self) -> str:
        """Hash: fingerprint -> consecutive reconciler passes in which no Alertmanager reported it."""
        return f"{self.ns}tracked:absent"

    @property
    def absent_since(self) -> str:
        """Sorted set: fingerprint -> when a run of passes without it began (ms): absence must
        also last `RECONCILE_RESOLVE_AFTER` before the reconciler resolves."""
        return f"{self.ns}tracked:absent-since"

    @property
    def reconciled(self) -> str:
        """Sorted set: fingerprint -> when the reconciler resolved it (its re-fire is adopted)."""
        return f"{self.ns}reconciled"

    @property
    def reapply(self) -> str:
        """Hash: fingerprint -> what was refused while paused for a firing alert (JSON: episode,
        alert, whether every playbook or only named follow-ups), re-applied on resume."""
        return f"{self.ns}reapply"

    def relapse(self, fingerprint: str, starts_at: str) -> str:
        """Marker: a state-only re-apply of this episode's lapsed leases is queued and has not
        run yet (so each reconciler pass does not queue another)."""
        return f"{self.ns}relapse:{fingerprint}:{starts_at}"

    @property
    def reverted(self) -> str:
        """Set of lease holders an operator revert ended (written by flags.lua): the reconciler
        does not bring their leases back for the rest of the episode."""
        return f"{self.ns}reverted"

    def holder(self, holder: str) -> str:
        """The flags one lease holder has leases on (written by flags.lua)."""
        return f"{self.ns}holder:{holder}"

    def approval(self, execution_id: str) -> str:
        """The approval gate one execution waits at (JSON, with the gate's timeout as TTL)."""
        return f"{self.ns}approval:{execution_id}"

    def decision(self, execution_id: str, index: int) -> str:
        """The decision taken at gate `index` of an execution (JSON, kept 30 days)."""
        return f"{self.ns}decision:{execution_id}:{index}"

    @property
    def approvals(self) -> str:
        """Sorted set of executions waiting at an approval gate, by deadline."""
        return f"{self.ns}approvals"

    @property
    def leader(self) -> str:
        """The scheduler's leader lock (redis-py `Lock`: a token with the lock TTL)."""
        return f"{self.ns}leader"

    @property
    def leader_name(self) -> str:
        """The replica that leads the scheduler, for `GET /api/jobs` (expires with the lock)."""
        return f"{self.ns}leader:name"

    def job_last(self, job_id: str) -> str:
        """The last run of one scheduled job (JSON)."""
        return f"{self.ns}job:{job_id}:last"

    def job_runs(self, job_id: str) -> str:
        """List of the latest runs of one scheduled job (JSON, newest first, capped at 100)."""
        return f"{self.ns}job:{job_id}:runs"

    @property
    def cost_snapshot(self) -> str:
        """The cost exporter's latest snapshot (JSON), served by every replica on /metrics."""
        return f"{self.ns}cost:snapshot"

    @property
    def pause(self) -> str:
        """Who paused Autonomic, why and until when (JSON), next to the `autonomic.paused` flag."""
        return f"{self.ns}pause"


@dataclass(frozen=True, slots=True)
class FlagKeys:
    """Key names under the flag prefix (default `autonomic:flag:`): the documented schema
    applications read (README "Flag key schema")."""

    prefix: str

    def value(self, name: str) -> str:
        """The plain value of flag `name` (absent when the flag is off and has no baseline)."""
        return f"{self.prefix}{name}"

    def leases(self, name: str) -> str:
        """Hash holder -> lease JSON of flag `name`, plus its `~baseline`."""
        return f"{self.prefix}{name}:leases"

    @property
    def changes(self) -> str:
        """The pub/sub channel every flag value change is published on (a channel, not a key)."""
        return f"{self.prefix}changes"


@dataclass(frozen=True, slots=True)
class CostKeys:
    """The LLM application's cost-tracker keys (`INCRBYFLOAT` counters) the cost exporter reads
    and never writes; a `*` pattern is scanned (docs/jobs.md "cost exporter")."""

    prefix: str

    def daily_cost_by_user(self, day: str) -> str:
        """Pattern: a user's spend that day (`…:user:{id}`), optionally split (`…:model:{model}`)."""
        return f"{self.prefix}cost:daily:{day}:user:*"

    def daily_cost_by_model(self, day: str) -> str:
        """Pattern: each model's spend that day."""
        return f"{self.prefix}cost:daily:{day}:model:*"

    def daily_tokens_by_user(self, day: str) -> str:
        """Pattern: each user's tokens that day."""
        return f"{self.prefix}tokens:daily:{day}:user:*"

    def hourly_requests(self, hour: str) -> str:
        """Pattern: requests that hour per model and cache hit (`…:model:{m}:cache_hit:{hit}`)."""
        return f"{self.prefix}requests:hourly:{hour}:model:*"

    def hourly_latency(self, hour: str) -> str:
        """Pattern: the summed latency (ms) of that hour's requests per model."""
        return f"{self.prefix}latency:hourly:{hour}:model:*"

    def hourly_cost(self, hour: str) -> str:
        """The total spend that hour."""
        return f"{self.prefix}cost:hourly:{hour}"
