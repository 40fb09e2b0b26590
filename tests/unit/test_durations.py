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
