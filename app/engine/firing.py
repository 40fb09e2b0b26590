"""What Autonomic knows about which alerts fire, kept in Redis so any replica can act on it.

Three records make mitigations level-triggered. `seen` holds when each alert was
last known to fire (every firing notification, duplicates included, written by the
intake script; every reconciler pass that finds it in Alertmanager); the renewal
extends the leases of those alerts so a lease lasts its TTL past the last sighting.
`tracked` holds the firing alerts whose mitigations the reconciler compares with
Alertmanager's view, with a count of passes in which none reported them. `reapply`
holds firing alerts whose playbooks were refused while Autonomic was paused, so
their mitigations come back when it resumes.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any

import msgspec
from redis.asyncio import Redis

from app.actions.flags import FlagStore, alert_holder
from app.coalesce import CoalescedScript
from app.engine import queue_entry
from app.engine.lanes import HIGH, LanePolicy
from app.engine.triggers import Trigger
from app.keys import Keys
from app.models import ZERO_TIME, Alert

_TRACK = files("app.engine").joinpath("track.lua").read_text()
_FORGET = files("app.engine").joinpath("forget.lua").read_text()
_RECONCILE = files("app.engine").joinpath("reconcile.lua").read_text()
_DEFER = files("app.engine").joinpath("defer.lua").read_text()
_REAPPLY = files("app.engine").joinpath("reapply.lua").read_text()
_RELAPSE = files("app.engine").joinpath("relapse.lua").read_text()
_READOPT = files("app.engine").joinpath("readopt.lua").read_text()
# A queued state-only re-apply normally runs within seconds (dispatch then drops the marker);
# should its entry be lost, the lapse is queued again after this long.
RELAPSE_MARKER_MS = 600_000
# `seen` entries older than this are dropped: an alert firing that long without a single
# notification or reconciler sighting is not renewed by them any more anyway.
SEEN_RETENTION_MS = 86_400_000
# Holders per renewal script call: a storm's first renewal covers every alert it brought.
RENEW_BATCH = 1000
RECONCILED = "reconciled: no longer active in Alertmanager"
REAPPLIED = "re-applied: the alert still fires after the pause"
LAPSED = "re-applied: its leases expired while Alertmanager still reports the alert"
READOPTED = "re-applied: Alertmanager reports the alert firing again after the reconciler resolved it"
# The value of a resolved tombstone the reconciler's resolve left (a re-fire of that very
# episode clears it); any other resolve leaves "1".
RECONCILED_TOMBSTONE = "reconciled"


class Tracked(msgspec.Struct, frozen=True):
    """A watched alert: its episode, the firing alert as last notified, and whether its
    playbooks took flag leases (so the reconciler knows they should exist)."""

    e: str
    a: Alert
    l: bool = False  # noqa: E741 - short field names keep the hash small


_tracked_decoder = msgspec.json.Decoder(Tracked)
_encoder = msgspec.json.Encoder()


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class FiringAlerts:
    """The seen / tracked / re-apply records and the operations on them."""

    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        flags: FlagStore,
        *,
        dedup_ttl_s: float,
        lanes: LanePolicy | None = None,
    ) -> None:
        self.redis = redis
        self.lanes = lanes or LanePolicy()  # a reconciled resolve or re-apply takes the alert's lane
        self.keys = keys
        self.flags = flags
        self.dedup_ttl_ms = max(1, int(dedup_ttl_s * 1000))
        # Every firing notification is tracked by the worker that runs it: concurrent
        # executions share the round trip, as their lease updates do.
        self._track = CoalescedScript(redis, _TRACK)
        self._forget = redis.register_script(_FORGET)
        self._reconcile = redis.register_script(_RECONCILE)
        self._defer = redis.register_script(_DEFER)
        self._reapply = redis.register_script(_REAPPLY)
        self._relapse = redis.register_script(_RELAPSE)
        self._readopt = redis.register_script(_READOPT)

    # -- written by dispatch --------------------------------------------------------------

    async def track(self, alert: Alert, *, leased: bool = False) -> bool:
        """Watch a firing alert whose playbooks ran (and took flag leases, if `leased`);
        False if its episode already resolved."""
        value = _encoder.encode(Tracked(alert.episode, alert, leased))
        keys = [
            self.keys.tracked,
            self.keys.resolved(alert.fingerprint, alert.episode),
            self.keys.absent,
            self.keys.reverted,
        ]
        args: list[str | bytes] = [alert.fingerprint, value, alert_holder(alert.fingerprint), alert.episode]

        return bool(await self._track(keys, args))

    async def forget(self, alert: Alert) -> None:
        """Stop watching an alert whose episode resolved (a newer episode stays watched)."""
        await self._forget(
            keys=[self.keys.tracked, self.keys.absent, self.keys.reapply, self.keys.seen, self.keys.reverted],
            args=[alert.fingerprint, alert.episode, alert_holder(alert.fingerprint)],
        )

    async def defer(self, alert: Alert, *, playbook: str = "") -> None:
        """Remember that this firing alert's playbooks were refused (paused): re-apply on resume
        every matching playbook, or only the follow-up `playbook` if one is named."""
        await self._defer(
            keys=[self.keys.reapply],
            args=[alert.fingerprint, alert.episode, _encoder.encode(alert), uuid.uuid4().hex, playbook],
        )

    async def relapsed(self, alert: Alert) -> None:
        """A state-only re-apply of `alert` ran: a later lapse in its episode is queued again."""
        await self.redis.delete(self.keys.relapse(alert.fingerprint, alert.episode))

    # -- read and written by the reconciler -----------------------------------------------

    async def tracked(self) -> dict[str, Tracked]:
        """Every watched alert by fingerprint."""
        raw: Any = await self.redis.hgetall(self.keys.tracked)
        return {fp: _tracked_decoder.decode(value) for fp, value in raw.items()}

    async def tracked_fingerprints(self) -> list[str]:
        """The fingerprints of every watched alert (without their records)."""
        raw: Any = await self.redis.hkeys(self.keys.tracked)
        return [str(fp) for fp in raw]

    async def deferred(self) -> list[str]:
        """The fingerprints of every alert waiting to be re-applied."""
        raw: Any = await self.redis.hkeys(self.keys.reapply)
        return [str(fp) for fp in raw]

    async def mark_seen(self, fingerprints: list[str]) -> None:
        """Record that these alerts fire now (Alertmanager reported them)."""
        if not fingerprints:
            return
        now_s, now_us = await self.redis.time()
        now_ms = int(now_s) * 1000 + int(now_us) // 1000
        pipe = self.redis.pipeline(transaction=False)
        pipe.zadd(self.keys.seen, dict.fromkeys(fingerprints, now_ms))
        pipe.hdel(self.keys.absent, *fingerprints)
        await pipe.execute()

    async def count_absent(self, fingerprints: list[str]) -> dict[str, tuple[int, float]]:
        """One more pass in which no Alertmanager reported these alerts; return for each the
        count of passes and for how many seconds it has been missing (since the first of them)."""
        if not fingerprints:
            return {}
        now_s, now_us = await self.redis.time()
        now_ms = int(now_s) * 1000 + int(now_us) // 1000
        pipe = self.redis.pipeline(transaction=False)
        for fp in fingerprints:
            pipe.hincrby(self.keys.absent, fp, 1)
        counts = [int(c) for c in await pipe.execute()]
        # A sighting deletes the count, so a count of 1 starts a new run of absence.
        started = {fp: now_ms for fp, count in zip(fingerprints, counts, strict=True) if count == 1}
        if started:
            await self.redis.zadd(self.keys.absent_since, started)
        since = await self.redis.zmscore(self.keys.absent_since, fingerprints)
        return {
            fp: (count, (now_ms - int(at if at is not None else now_ms)) / 1000)
            for fp, count, at in zip(fingerprints, counts, since, strict=True)
        }

    async def drop_unseen(self, fingerprints: list[str]) -> list[str]:
        """Stop tracking those of `fingerprints` not seen firing within `SEEN_RETENTION_MS`
        (without Alertmanager nothing else would ever end them); return them."""
        if not fingerprints:
            return []
        scores = await self.redis.zmscore(self.keys.seen, fingerprints)
        stale = [fp for fp, score in zip(fingerprints, scores, strict=True) if score is None]
        if stale:
            pipe = self.redis.pipeline(transaction=False)
            pipe.hdel(self.keys.tracked, *stale)
            pipe.hdel(self.keys.absent, *stale)
            pipe.zrem(self.keys.absent_since, *stale)
            await pipe.execute()
        return stale

    async def renew(self) -> int:
        """Extend the leases of every alert seen firing since the last renewal; return how many
        leases moved. Run by the leader (sweeper and reconciler), before leases expire."""
        cursor_raw, (now_s, now_us) = await self.redis.get(self.keys.renewed_until), await self.redis.time()
        now_ms = int(now_s) * 1000 + int(now_us) // 1000
        cursor = int(cursor_raw or 0)
        entries: Any = await self.redis.zrangebyscore(self.keys.seen, f"({cursor}", now_ms, withscores=True)
        seen = [(alert_holder(fp), int(score)) for fp, score in entries]
        renewed = 0
        for i in range(0, len(seen), RENEW_BATCH):  # bounded script calls: Redis serves others between
            renewed += await self.flags.renew(dict(seen[i : i + RENEW_BATCH]))
        pipe = self.redis.pipeline(transaction=False)
        # One millisecond back: a sighting recorded in this very millisecond after our read
        # is renewed next time (renewing twice is harmless).
        pipe.set(self.keys.renewed_until, now_ms - 1)
        pipe.zremrangebyscore(self.keys.seen, "-inf", now_ms - SEEN_RETENTION_MS)
        pipe.zremrangebyscore(self.keys.absent_since, "-inf", now_ms - SEEN_RETENTION_MS)
        await pipe.execute()
        return renewed

    async def resolve(self, alert: Alert) -> bool:
        """Queue the resolve of an alert no Alertmanager reports any more, exactly as a resolved
        webhook would be queued; return False if that notification was already accepted."""
        resolved = msgspec.structs.replace(alert, status="resolved", ends_at=_now_iso())
        meta = Trigger(source="system", reason=RECONCILED).to_meta()
        queued = await self._reconcile(
            keys=[
                self.keys.lane(self.lanes.lane(alert.labels)),
                self.keys.dedup(resolved.event_key),
                self.keys.tracked,
                self.keys.absent,
                self.keys.seen,
                self.keys.reconciled,
            ],
            # Its own entry key (so its executions' ids): should the episode be re-adopted, its
            # dedup key is dropped, and the next resolve (Alertmanager's or ours) is a new event.
            args=[
                alert.fingerprint,
                self.dedup_ttl_ms,
                *queue_entry.flat(
                    queue_entry.encode(
                        f"reconciled:{resolved.event_key}:{uuid.uuid4().hex}",
                        _encoder.encode(resolved).decode(),
                        trigger=meta,
                    )
                ),
            ],
        )
        return bool(queued)

    async def lapsed(self, fingerprints: list[str]) -> list[str]:
        """Those of `fingerprints` (alerts whose playbooks took leases) that hold no lease now
        and were not reverted by an operator: their leases ended while they still fire."""
        if not fingerprints:
            return []
        pipe = self.redis.pipeline(transaction=False)
        for fp in fingerprints:
            pipe.exists(self.keys.holder(alert_holder(fp)))
            pipe.sismember(self.keys.reverted, alert_holder(fp))
        replies = await pipe.execute()
        return [fp for i, fp in enumerate(fingerprints) if not replies[2 * i] and not replies[2 * i + 1]]

    async def refired(self, active: dict[str, dict[str, Any]], tracked: dict[str, Tracked]) -> list[Alert]:
        """Alerts the reconciler resolved that Alertmanager reports firing again (state active,
        not silenced or inhibited) but nobody notified: Alertmanager sends nothing when a resolve
        and a re-fire fall into one group_interval. Each is returned once."""
        now_s, now_us = await self.redis.time()
        now_ms = int(now_s) * 1000 + int(now_us) // 1000
        await self.redis.zremrangebyscore(self.keys.reconciled, "-inf", now_ms - SEEN_RETENTION_MS)
        candidates: Any = await self.redis.zrange(self.keys.reconciled, 0, -1)
        found = []
        for fp in candidates:
            item = active.get(fp)
            if item is None or fp in tracked or item.get("status", {}).get("state") != "active":
                continue
            found.append(
                Alert(
                    status="firing",
                    labels={str(k): str(v) for k, v in item.get("labels", {}).items()},
                    annotations={str(k): str(v) for k, v in item.get("annotations", {}).items()},
                    starts_at=str(item.get("startsAt", ZERO_TIME)),
                    generator_url=str(item.get("generatorURL", "")),
                    fingerprint=fp,
                    receiver=str((item.get("receivers") or [{}])[0].get("name", "")),
                )
            )
        if found:
            await self.redis.zrem(self.keys.reconciled, *(a.fingerprint for a in found))
        return found

    async def reapply(self, fingerprint: str) -> int:
        """Queue what a pause refused for this alert (a fresh event: flags come back, events obey
        the cooldown) and drop it from the re-apply list, atomically and once however many
        callers race; return how many entries were queued. Re-applies take the high lane, like
        follow-ups and manual triggers: the record holds the alert, not yet its lane."""
        full = Trigger(source="system", reason=REAPPLIED).to_meta()
        followup = Trigger(source="followup", reason=REAPPLIED).to_meta()
        queued = await self._reapply(
            keys=[self.keys.reapply, self.keys.lane(HIGH)],
            args=[fingerprint, full, followup, *queue_entry.SCRIPT_FIELDS],
        )
        return int(queued)

    async def relapse(self, alert: Alert) -> bool:
        """Queue a state-only re-apply (flag leases act, events are skipped) of an alert whose
        leases lapsed while it still fires, unless one for its episode is queued and has not
        run yet; return True if queued."""
        meta = Trigger(source="system", reason=LAPSED, state_only=True).to_meta()
        key = f"relapse:{alert.fingerprint}:{alert.episode}:{uuid.uuid4().hex}"
        queued = await self._relapse(
            keys=[
                self.keys.relapse(alert.fingerprint, alert.episode),
                self.keys.lane(self.lanes.lane(alert.labels)),
            ],
            args=[
                RELAPSE_MARKER_MS,
                key,
                *queue_entry.flat(queue_entry.encode(key, _encoder.encode(alert).decode(), trigger=meta)),
            ],
        )
        return bool(queued)

    async def readopt(self, alert: Alert) -> bool:
        """Queue a re-fire of the episode the reconciler itself resolved (same startsAt), clearing
        the tombstone that resolve left; False (nothing done) if the episode was not resolved by
        the reconciler: then the re-fire is a new episode, queued like a notification."""
        resolved = msgspec.structs.replace(alert, status="resolved")
        meta = Trigger(source="system", reason=READOPTED).to_meta()
        queued = await self._readopt(
            keys=[
                self.keys.resolved(alert.fingerprint, alert.episode),
                self.keys.dedup(resolved.event_key),
                self.keys.lane(self.lanes.lane(alert.labels)),
            ],
            args=queue_entry.flat(
                queue_entry.encode(
                    f"readopt:{alert.fingerprint}:{alert.episode}:{uuid.uuid4().hex}",
                    _encoder.encode(alert).decode(),
                    trigger=meta,
                )
            ),
        )
        return bool(queued)
