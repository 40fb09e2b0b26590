import pytest

from app.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("15m", 900),
        ("2h", 7200),
        ("1h30m", 5400),
        ("1d", 86400),
        ("250ms", 0.25),
        ("90", 90),
        (12, 12),
        (1.5, 1.5),
        (" 2H ", 7200),
    ],
)
def test_parses(text: str | float, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "15x", "m15", "1h 30m", "-5", True])
def test_rejects(text: object) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(text)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (600, "10m"),
        (5400, "1h30m"),
        (30, "30s"),
        (90, "1m30s"),
        (86400, "1d"),
        (0.25, "250ms"),
        (0, "0s"),
        (1.5, "1s500ms"),
    ],
)
def test_format_duration_writes_what_operators_write(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
    assert parse_duration(text) == seconds


def test_moments_are_ages_iso_or_epoch_and_bad_ones_are_one_line() -> None:
    import pytest

    from app.durations import parse_moment

    now = 1_795_774_741.0
    assert parse_moment("2h", now) == now - 7200
    assert parse_moment("2026-11-27T10:00:00Z", now) == 1_795_773_600.0
    assert parse_moment("2026-11-27T11:00:00+01:00", now) == 1_795_773_600.0
    assert parse_moment("1795774741", now) == now
    for bad in ("yesterday", "nan", "inf", "1e300", "-5m", "", "0001-01-01T00:00:00+01:00"):
        with pytest.raises(
            ValueError, match=r"^invalid time .*: use an age \(2h\), ISO-8601 or epoch seconds$"
        ):
            parse_moment(bad, now)
