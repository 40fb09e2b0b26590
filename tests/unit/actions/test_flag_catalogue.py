from __future__ import annotations

import pytest

from app.actions.flag_catalogue import declared_names, declared_type, infer, typed


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("true", True),
        ("FALSE", False),
        ("yes", "yes"),  # only true/false are booleans for an undeclared flag
        ("4", 4),
        ("-12", -12),
        ("0.25", 0.25),
        ("1e3", 1000.0),
        ("nan", "nan"),
        ("inf", "inf"),
        ("1_000", "1_000"),
        ("12345678901234567890123", 1.2345678901234568e22),
        ("economy", "economy"),
        ("", ""),
    ],
)
def test_custom_flags_are_inferred(raw: str, expected: object) -> None:
    value = infer(raw)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("ratelimit.factor", "1", 1.0),  # declared float: a float even when written as an integer
        ("ratelimit.factor", "half", "half"),  # does not parse: served as the string it is
        ("ratelimit.user.u1", "0.1", 0.1),
        ("llm.model_tier", "4", "4"),  # declared string stays a string
        ("autonomic.paused", "on", True),
        ("autonomic.paused", "0", False),
        ("autonomic.paused", "maybe", "maybe"),
        ("custom.flag", "on", "on"),
    ],
)
def test_catalogue_types(name: str, raw: str, expected: object) -> None:
    value = typed(name, raw)
    assert value == expected
    assert type(value) is type(expected)


def test_catalogue_names() -> None:
    assert set(declared_names()) == {"llm.model_tier", "cache.mode", "ratelimit.factor", "autonomic.paused"}
    assert declared_type("ratelimit.user.anyone") == "float"
    assert declared_type("ratelimit.userx") is None
