"""Data lifecycle: trim Autonomic's own streams by age, forget idle flags' change counts, and
Elasticsearch/OpenSearch index retention — indices `prefix-YYYYMMDD` or `prefix-YYYY.MM.DD`
older than N days are snapshotted to a repository, the snapshot's success verified, and only
then deleted.
Nothing is deleted without a successful snapshot; dry-run reports what would be done.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import structlog
from redis.asyncio import Redis

from app.keys import Keys

log = structlog.get_logger(__name__)
_DATED = re.compile(r"^(?P<prefix>.+)-(?P<date>\d{8}|\d{4}\.\d{2}\.\d{2})$")


async def trim_streams(redis: Redis, retention: dict[str, float]) -> dict[str, int]:
    """Drop entries older than their stream's retention (seconds); return how many per stream."""
    now_ms = int(time.time() * 1000)
    removed = {}
    for stream, seconds in retention.items():
        min_id = f"{now_ms - int(seconds * 1000)}-0"
        removed[stream] = int(await redis.xtrim(stream, minid=min_id, approximate=False))
    return removed


async def prune_flag_metrics(redis: Redis, keys: Keys, idle_s: float) -> int:
    """Forget the change counts of flags that hold no lease and have not changed for `idle_s`,
    so per-user flags (`ratelimit.user.{id}`) do not keep a metric series each forever."""
    cutoff_ms = (time.time() - idle_s) * 1000
    changed = await redis.hgetall(keys.flag_changed_at)
    idle = [str(flag) for flag, at in changed.items() if float(at) < cutoff_ms]
    if not idle:
        return 0
    held = await redis.zmscore(keys.leases, idle)
    idle = [flag for flag, score in zip(idle, held, strict=True) if score is None]
    if not idle:
        return 0
    forget = set(idle)
    fields = [str(f) for f in await redis.hkeys(keys.flag_changes) if str(f).partition("|")[0] in forget]
    pipe = redis.pipeline(transaction=False)
    pipe.hdel(keys.flag_changed_at, *idle)
    if fields:
        pipe.hdel(keys.flag_changes, *fields)
    await pipe.execute()
    return len(idle)


def index_date(name: str, prefixes: list[str]) -> date | None:
    """The date in an index name like `logs-20260101` or `logs-2026.01.01`, for our prefixes."""
    match = _DATED.match(name)
    if not match or match.group("prefix") not in prefixes:
        return None
    text = match.group("date").replace(".", "")
    try:
        return datetime.strptime(text, "%Y%m%d").replace(tzinfo=UTC).date()
    except ValueError:
        return None


class RetentionError(Exception):
    """The cluster refused or failed a retention step; nothing further was deleted."""


@dataclass
class IndexRetention:
    """Snapshot-then-delete of dated indices over the REST API."""

    client: httpx.AsyncClient
    prefixes: list[str]
    days: int
    repository: str
    dry_run: bool = False

    async def expired(self, today: date) -> list[str]:
        """Indices of our prefixes older than `days`."""
        cutoff = today - timedelta(days=self.days)
        names: set[str] = set()
        for prefix in self.prefixes:
            response = await self.client.get(
                f"/_cat/indices/{prefix}-*", params={"format": "json", "h": "index"}
            )
            if response.status_code == 404:
                continue
            self._check(response, "list indices")
            names.update(row["index"] for row in response.json())
        return sorted(n for n in names if (d := index_date(n, self.prefixes)) is not None and d < cutoff)

    def _check(self, response: httpx.Response, what: str) -> None:
        if response.status_code >= 300:
            raise RetentionError(f"{what}: HTTP {response.status_code} {response.text[:200]}")

    async def run(self, today: date | None = None) -> dict[str, Any]:
        """Snapshot and delete expired indices; return what was (or would be) done."""
        today = today or datetime.now(UTC).date()
        indices = await self.expired(today)
        if not indices:
            return {"expired": [], "snapshot": None, "deleted": []}
        snapshot = f"autonomic-retention-{today.strftime('%Y%m%d')}-{int(time.time())}"
        if self.dry_run:
            return {"expired": indices, "snapshot": snapshot, "deleted": [], "dry_run": True}
        response = await self.client.put(
            f"/_snapshot/{self.repository}/{snapshot}",
            params={"wait_for_completion": "true"},
            json={"indices": ",".join(indices), "include_global_state": False},
            timeout=httpx.Timeout(30.0, read=3600.0),
        )
        self._check(response, f"snapshot {snapshot}")
        await self._verify(snapshot, indices)
        deleted = []
        for index in indices:
            response = await self.client.delete(f"/{index}")
            self._check(response, f"delete {index}")
            deleted.append(index)
        log.info("indices retired", snapshot=snapshot, deleted=deleted)
        return {"expired": indices, "snapshot": snapshot, "deleted": deleted}

    async def _verify(self, snapshot: str, indices: list[str]) -> None:
        response = await self.client.get(f"/_snapshot/{self.repository}/{snapshot}")
        self._check(response, f"verify snapshot {snapshot}")
        found = response.json().get("snapshots") or []
        info = found[0] if found else {}
        state = info.get("state")
        failed = (info.get("shards") or {}).get("failed", 0)
        missing = set(indices) - set(info.get("indices") or [])
        if state != "SUCCESS" or failed or missing:
            raise RetentionError(
                f"snapshot {snapshot} is {state} (failed shards {failed}, missing {sorted(missing)}):"
                " nothing deleted"
            )
