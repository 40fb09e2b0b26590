"""Names of every Redis key Autonomic owns, under `AUTONOMIC_REDIS_NAMESPACE`.

Flag keys, which applications read, live under the separate flag prefix and
are named in app/actions/flags.py.
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

    def kube_budget(self, scope: str) -> str:
        """Sliding window of Kubernetes writes for one budget scope (workload, namespace, total)."""
        return f"{self.ns}budget:kube:{scope}"

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

    @property
    def pause(self) -> str:
        """Who paused Autonomic, why and until when (JSON), next to the `autonomic.paused` flag."""
        return f"{self.ns}pause"
