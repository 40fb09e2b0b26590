"""Priority lanes of the work queue: which lane an alert goes to, and which lane a read tries first.

Two lanes, each its own Redis stream with its own consumer group: `high` (by
default alerts whose `severity` is `critical` or `page`, plus manual triggers,
follow-ups and approval decisions) and `normal` (everything else). Workers read
the high lane first, but after `share - 1` reads in a row served from the high
lane the next read tries the normal lane first, so a busy high lane still leaves
the normal lane 1 read in `share` (no starvation). Reads that find nothing do
not count, so the order is deterministic for a given sequence of entries. The
mapping is an Alertmanager matcher list (`AUTONOMIC_PRIORITY_HIGH_MATCH`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.matchers import Matcher, matches, parse

HIGH = "high"
NORMAL = "normal"
LANES = (HIGH, NORMAL)  # highest first
DEFAULT_HIGH_MATCH = 'severity=~"critical|page"'


@dataclass
class LanePolicy:
    """Routes alerts to lanes and orders the lanes for each read."""

    high_match: str = DEFAULT_HIGH_MATCH
    share: int = 4
    _matchers: tuple[Matcher, ...] = field(init=False, repr=False)
    _streak: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        self._matchers = parse(self.high_match) if self.high_match.strip() else ()
        if self.share < 2:
            raise ValueError("the normal lane's share must be at least 2 (1 read in N)")

    def lane(self, labels: dict[str, str]) -> str:
        """The lane of an alert with these labels (an empty matcher list sends all to normal)."""
        return HIGH if self._matchers and matches(self._matchers, labels) else NORMAL

    def order(self) -> tuple[str, ...]:
        """Lanes to try for the next read, in order: high first, unless the high lane has been
        served `share - 1` times in a row (then the normal lane gets its turn)."""
        return (NORMAL, HIGH) if self._streak >= self.share - 1 else LANES

    def served(self, lane: str) -> None:
        """Record which lane a read took entries from."""
        self._streak = self._streak + 1 if lane == HIGH else 0
