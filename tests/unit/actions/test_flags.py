"""Flag names, values and the lease operations not covered by the store contract: renewal
past the last sighting, a holder's release of everything, the effective value of several leases."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from app.actions.flags import (
    FlagStore,
    InvalidFlagName,
    alert_holder,
    check_name,
    decode_name_part,
    encode_value,
    is_truthy,
    name_part,
)

NOW = 1_800_000_000_000


@pytest.mark.parametrize("value", ["Alice.Bob@x.io", "user_1", "ünï", "a b", ""])
def test_name_parts_round_trip_and_are_valid_names(value: str) -> None:
    part = name_part(value)
    assert decode_name_part(part) == value
    if part:
        assert check_name(f"user.{part}") == f"user.{part}"


def test_name_part_examples_and_bad_encodings() -> None:
    assert name_part("Alice.Bob@x.io") == "_41lice._42ob_40x.io"
    with pytest.raises(ValueError, match="not an encoded"):
        decode_name_part("_zz")


@pytest.mark.parametrize("name", ["Upper", "has space", "x" * 201, ""])
def test_invalid_flag_names(name: str) -> None:
    with pytest.raises(InvalidFlagName):
        check_name(name)


def test_values_and_truthiness() -> None:
    assert [encode_value(v) for v in (True, False, 3, 1.5, "x")] == ["true", "false", "3", "1.5", "x"]
    with pytest.raises(TypeError):
        encode_value(None)  # type: ignore[arg-type]
    assert all(is_truthy(v) for v in ("1", "TRUE", " yes ", "On"))
    assert not any(is_truthy(v) for v in (None, "0", "false", ""))
    assert alert_holder("fp") == "alert:fp"


async def test_renewal_extends_live_leases_to_ttl_past_the_sighting(aredis: Redis, ns: str) -> None:
    flags = FlagStore(aredis, prefix=f"{ns}flags:", namespace=ns, grace_s=0)
    await flags.set("a.flag", "on", ttl_s=60, holder="alert:x", now_ms=NOW)
    assert await flags.renew({}) == 0
    assert await flags.renew({"alert:x": NOW + 30_000}, now_ms=NOW + 30_000) == 1
    (state,) = await flags.active()
    assert state.leases[0].expires_at_ms == NOW + 90_000


async def test_release_holder_ends_all_of_its_leases(aredis: Redis, ns: str) -> None:
    flags = FlagStore(aredis, prefix=f"{ns}flags:", namespace=ns, grace_s=0)
    await flags.set("a.flag", "on", ttl_s=60, holder="alert:x", now_ms=NOW)
    await flags.set("b.flag", "2", ttl_s=60, holder="alert:x", now_ms=NOW)
    await flags.set("b.flag", "3", ttl_s=60, holder="alert:y", now_ms=NOW + 1)
    assert await flags.get("b.flag") == "3"  # the newest lease decides
    assert await flags.release_holder("alert:x", now_ms=NOW + 2) == {"a.flag": None, "b.flag": "3"}
    assert await flags.held_by("alert:x") == set()
