"""Job schedules in words, as /api/jobs, the console and `autonomic jobs` show them."""

from __future__ import annotations

import pytest

from app.engine.scheduler import describe_trigger, parse_trigger


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("interval:30s", "every 30s"),
        ("interval:10m", "every 10m"),
        ("interval:1h30m", "every 1h30m"),
        ("cron:17 * * * *", "hourly at :17"),
        ("cron:5 3 * * *", "daily at 03:05 UTC"),
        ("cron:*/5 * * * *", "cron */5 * * * *"),
        ("off", "off"),
    ],
)
def test_schedules_read_as_words(spec: str, words: str) -> None:
    assert describe_trigger(parse_trigger(spec)) == words
