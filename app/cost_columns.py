"""The SQL cost source's column map (`AUTONOMIC_COST_COLUMNS`): read by the settings, which
refuse a bad one at start, and by the SQL cost source (app/jobs/cost_sources.py)."""

from __future__ import annotations

import re
from collections.abc import Mapping

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# The guide's `requests` table; tokens are not in it (map them to export ai_daily_tokens).
DEFAULT_COLUMNS = {
    "user_id": "user_id",
    "model": "model",
    "cost_usd": "cost_usd",
    "created_at": "created_at",
    "latency_ms": "latency_ms",
    "cache_hit": "cache_hit",
    "input_tokens": "",
    "output_tokens": "",
}
REQUIRED = ("user_id", "model", "cost_usd", "created_at")


def parse_columns(spec: str | Mapping[str, str]) -> dict[str, str]:
    """`user_id=uid,created_at=ts,latency_ms=` → the full column map (empty = not present)."""
    items = spec.items() if isinstance(spec, Mapping) else _pairs(spec)
    columns = dict(DEFAULT_COLUMNS)
    for key, value in items:
        if key not in columns:
            raise ValueError(f"unknown cost column {key!r}: use {', '.join(DEFAULT_COLUMNS)}")
        if value and not IDENT.fullmatch(value):
            raise ValueError(f"invalid column name {value!r} for {key}")
        if not value and key in REQUIRED:
            raise ValueError(f"cost column {key} is required")
        columns[key] = value
    return columns


def _pairs(spec: str) -> list[tuple[str, str]]:
    pairs = []
    for part in spec.split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"invalid cost column mapping {part.strip()!r}: use name=column")
        pairs.append((key.strip(), value.strip()))
    return pairs
