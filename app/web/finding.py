"""Finding executions: the filters `GET /api/executions`, the console and `autonomic executions`
share — playbook, alert name, status, a time range and paging.

Times are ISO-8601, epoch seconds or an age (`2h` = two hours ago), as in
`app.durations.parse_moment`; the range applies to when an execution finished
(the executions stream is ordered by it, so the range bounds the scan itself).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, get_args

from app.durations import parse_moment
from app.models import ExecutionStatus

STATUSES = get_args(ExecutionStatus)
PAGE = 25


@dataclass(frozen=True, slots=True)
class ExecutionQuery:
    """What to look for and which page of it."""

    playbook: str | None = None
    alertname: str | None = None
    status: str | None = None
    since: float | None = None
    until: float | None = None
    limit: int = PAGE
    offset: int = 0

    def store_args(self) -> dict[str, Any]:
        """Keyword arguments for `ExecutionStore.recent`."""
        return asdict(self)


def query_of(params: Mapping[str, Any], *, limit: int = PAGE, now: float | None = None) -> ExecutionQuery:
    """The query in `params` (empty values ignored); ValueError with a one-line reason if bad."""

    def text(name: str) -> str | None:
        value = params.get(name)
        return str(value).strip() or None if value is not None else None

    now = time.time() if now is None else now
    status = text("status")
    if status is not None and status not in STATUSES:
        raise ValueError(f"unknown status {status!r}: one of {', '.join(STATUSES)}")
    since, until = text("since"), text("until")
    start = parse_moment(since, now) if since else None
    end = parse_moment(until, now) if until else None
    if start is not None and end is not None and start > end:
        raise ValueError("since is after until")
    try:
        offset = int(text("offset") or 0)
    except ValueError:
        raise ValueError("offset must be a whole number") from None
    if offset < 0:
        raise ValueError("offset must not be negative")
    return ExecutionQuery(text("playbook"), text("alertname"), status, start, end, limit, offset)
