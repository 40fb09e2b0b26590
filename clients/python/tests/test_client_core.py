import re

import pytest

from autonomic_flags import contract
from autonomic_flags.contract import Change, decode_name_part, name_part, parse_message
from autonomic_flags.core import as_bool, as_float, as_int, as_str


@pytest.mark.parametrize(
    ("fn", "value", "default", "expected"),
    [
        (as_str, None, "std", "std"),
        (as_str, "economy", "std", "economy"),
        (as_bool, "TRUE", False, True),
        (as_bool, "off", True, False),
        (as_bool, "maybe", True, True),
        (as_bool, None, False, False),
        (as_float, "0.5", 1.0, 0.5),
        (as_float, "half", 1.0, 1.0),
        (as_int, "3", 1, 3),
        (as_int, "3.5", 1, 1),
    ],
)
def test_conversions_fall_back_to_the_default(fn, value, default, expected) -> None:  # type: ignore[no-untyped-def]
    assert fn(value, default) == expected


def test_parse_message() -> None:
    assert parse_message('{"flag": "a", "value": "1"}') == Change("a", "1")
    assert parse_message(b'{"flag": "a", "value": null, "reason": "r", "at": 5}') == Change("a", None, "r", 5)
    assert parse_message("{bad") is None
    assert parse_message('{"flag": 1}') is None
    assert parse_message('{"value": "x"}') is None


def test_parse_message_lease_figures() -> None:
    held = '{"flag": "a", "value": "1", "reason": "set by h", "at": 5, "held": 2, "holder": "h", "exp": 9}'
    assert parse_message(held) == Change("a", "1", "set by h", 5, 2, "h", 9)
    none = '{"flag": "a", "value": null, "at": 5, "held": 0, "holder": null, "exp": null}'
    assert parse_message(none) == Change("a", None, "", 5, 0, None, None)
    # Malformed figures read as not sent.
    assert parse_message('{"flag": "a", "value": "1", "held": true, "exp": "9"}') == Change("a", "1")


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        ("u-42", "u-42"),
        ("Alice.Bob@x.io", "_41lice._42ob_40x.io"),
        ("user_1", "user__1"),
        ("é", "_c3_a9"),
        ("_41", "__41"),
        ("", ""),
    ],
)
def test_name_part_is_reversible_and_fits_the_flag_name_rule(value: str, encoded: str) -> None:
    assert name_part(value) == encoded
    assert decode_name_part(encoded) == value
    assert re.fullmatch(contract.NAME_PATTERN, f"ratelimit.user.{encoded}")


@pytest.mark.parametrize("bad", ["_", "_4", "_zz", "_ff"])
def test_decode_name_part_refuses_what_it_did_not_encode(bad: str) -> None:
    with pytest.raises(ValueError, match="not an encoded flag name part"):
        decode_name_part(bad)
