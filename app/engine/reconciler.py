"""The reconciler: compare what Autonomic mitigates with what Alertmanager says fires.

Run by the scheduler's leader every `AUTONOMIC_RECONCILE_INTERVAL`. For every
tracked alert (a firing alert that ran playbooks and has not resolved) it asks every
configured Alertmanager for the active alerts (silenced and inhibited included: a
silence stops paging people, not the mitigation):

- still active: the alert is marked seen and its leases renewed;
- absent from every answering Alertmanager for two consecutive passes and at least
  `AUTONOMIC_RECONCILE_RESOLVE_AFTER` (default 2m): its resolve is
  queued exactly as a resolved webhook would be, recorded with the reason
  "reconciled: no longer active in Alertmanager";
- no Alertmanager answers: nothing is renewed or resolved (leases run on their TTL);
  logged once per outage and counted in `autonomic_reconcile_runs_total{result="unreachable"}`.

Each pass (with or without Alertmanager) also re-applies the alerts whose playbooks
were refused while paused, once Autonomic is no longer paused.
"""

from __future__ import annotations

from typing import Any

import structlog

from app import metrics
from app.actions.alertmanager import AlertmanagerClient, AlertmanagerUnreachable
from app.actions.redaction import Redactor
from app.engine.firing import FiringAlerts
from app.engine.pause import PauseStore
from app.engine.queue import AlertQueue, seen_mark
from app.models import encoder

log = structlog.get_logger(__name__)
PASSES_TO_RESOLVE = 2


class Reconciler:
    """One replica's reconciler (only the leader's runs on schedule)."""

    def __init__(
        self,
        firing: FiringAlerts,
        pause: PauseStore,
        alertmanager: AlertmanagerClient | None,
        queue: AlertQueue,
        *,
        redact: Redactor | None = None,
        resolve_after_s: float = 120.0,
    ) -> None:
        self.resolve_after_s = resolve_after_s
        self.queue = queue
        self.firing = firing
        self.pause = pause
        self.alertmanager = alertmanager
        self.redact = redact or Redactor()
        self._outage = False  # only so an outage is logged once, never needed for correctness

    async def run(self) -> dict[str, Any]:
        """One pass; return what it found and did (kept as the job's last result)."""
        # Without Alertmanager only the fingerprints are needed, not every tracked alert's
        # record (after a storm that is 100,000 alerts, every pass).
        tracked = await self.firing.tracked() if self.alertmanager is not None else {}
        fingerprints = (
            list(tracked) if self.alertmanager is not None else await self.firing.tracked_fingerprints()
        )
        result: dict[str, Any] = {"tracked": len(fingerprints)}
        if self.alertmanager is not None:
            try:
                active, problems = await self.alertmanager.active()
            except AlertmanagerUnreachable as exc:
                metrics.RECONCILE_RUNS.labels("unreachable").inc()
                if not self._outage:
                    log.error(
                        "no Alertmanager answered; the reconciler changes nothing until one does",
                        error=self.redact(str(exc)),
                    )
                    self._outage = True
                # Resuming after a pause does not depend on Alertmanager's answer.
                return {**result, "alertmanager": "unreachable", "reapplied": await self.reapply()}
            if self._outage:
                log.info("an Alertmanager answers again; reconciling")
                self._outage = False
            present = [fp for fp in tracked if fp in active]
            absent = [fp for fp in tracked if fp not in active]
            await self.firing.mark_seen(present)
            resolved = []
            for fp, (passes, missing_s) in (await self.firing.count_absent(absent)).items():
                # Passes and time both: an Alertmanager restarted with an empty state misses
                # every alert until Prometheus resends (its resend delay, ~1m), whatever the
                # reconcile interval.
                if passes >= PASSES_TO_RESOLVE and missing_s >= self.resolve_after_s:
                    await self.firing.resolve(tracked[fp].a)
                    resolved.append(fp)
                    log.info("alert no longer active in Alertmanager; resolving", fingerprint=fp)
            # A lease that expired although the alert still fires (Autonomic was gone longer
            # than its TTL): the state comes back, the events do not run again.
            lapsed = await self.firing.lapsed([fp for fp in present if tracked[fp].l])
            for fp in lapsed:
                await self.firing.relapse(tracked[fp].a)
            # Queued like a notification (deduplicated by episode like one).
            refired = await self.firing.refired(active, tracked)
            # The episode the reconciler resolved itself (same startsAt) has run under its
            # notification's key: it is queued afresh. A new episode is queued like a notification.
            fresh = [a for a in refired if not await self.firing.readopt(a)]
            if fresh:
                items = [
                    (
                        a.event_key,
                        encoder.encode(a).decode(),
                        "",
                        seen_mark(a.status, a.fingerprint),
                        self.queue.lanes.lane(a.labels),
                    )
                    for a in fresh
                ]
                await self.queue.enqueue(items)
            result.update(
                refired=[a.fingerprint for a in refired],
                lapsed=lapsed,
                active=len(present),
                absent=len(absent),
                resolved=resolved,
                unanswered=[self.redact(p) for p in problems],
            )
        else:
            # Notifications alone: an alert unseen for a day (its resolve was lost, say) is
            # forgotten; its leases have ended at their TTL by then.
            result["forgotten"] = await self.firing.drop_unseen(fingerprints)
        result["renewed"] = await self.firing.renew()
        result["reapplied"] = await self.reapply()
        outcome = "resolved" if result.get("resolved") else "renewed" if result["renewed"] else "ok"
        metrics.RECONCILE_RUNS.labels(outcome).inc()
        return result

    async def reapply(self) -> list[str]:
        """Unless paused, queue the playbooks again of every alert refused while paused."""
        state = await self.pause.get()
        metrics.PAUSED.set(1 if state.paused else 0)
        if state.paused:
            return []
        # Another replica may resume at the same moment: each record is queued by one of us.
        reapplied = [fp for fp in await self.firing.deferred() if await self.firing.reapply(fp)]
        if reapplied:
            log.info("re-applied alerts refused while paused", alerts=len(reapplied))
        return sorted(reapplied)
