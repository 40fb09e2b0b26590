"""Job schedules: crontab read as crontab means it, and schedules in words, as /api/jobs, the console
and `autonomic jobs` show them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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


@pytest.mark.parametrize(
    ("crontab", "weekdays"),
    [
        ("0 3 * * 1", {"Monday"}),
        ("0 3 * * 0", {"Sunday"}),
        ("0 3 * * 7", {"Sunday"}),
        ("0 3 * * 1-5", {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday"}),
        ("0 3 * * 5-7", {"Friday", "Saturday", "Sunday"}),
        ("0 3 * * sat,sun", {"Saturday", "Sunday"}),
        ("0 3 * * */2", {"Sunday", "Tuesday", "Thursday", "Saturday"}),
        ("0 3 * * *", {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}),
    ],
)
def test_cron_day_of_week_means_what_it_means_in_crontab(crontab: str, weekdays: set[str]) -> None:
    """APScheduler 3 counts 0 as Monday; crontab counts 0 (and 7) as Sunday."""
    trigger = parse_trigger(f"cron:{crontab}")
    assert trigger is not None
    fired: set[str] = set()
    when = datetime(2026, 11, 27, tzinfo=UTC)
    for _ in range(14):
        when = trigger.get_next_fire_time(None, when)
        assert when is not None
        assert (when.hour, when.minute) == (3, 0)
        fired.add(when.strftime("%A"))
        when += timedelta(seconds=1)
    assert fired == weekdays


@pytest.mark.parametrize(
    "crontab", ["0 3 * * 8", "0 3 * * 5-1", "0 3 * * mon/0", "0 3 * *", "0 3 * * funday"]
)
def test_a_bad_cron_day_of_week_is_refused(crontab: str) -> None:
    with pytest.raises(ValueError, match="invalid"):
        parse_trigger(f"cron:{crontab}")
