"""The server keeps to the wire contract written once in the client package (autonomic_flags.contract).

The server does not import the client package; this test is what keeps the two
copies — names, key schema, channel, message shape, boolean words — in step.
"""

from __future__ import annotations

import asyncio
import json
import re

import pytest
import redis
import redis.asyncio as aioredis
from hypothesis import given
from hypothesis import strategies as st

from app.actions import flag_catalogue, flag_view
from app.actions import flags as flags_module
from app.actions.flags import NAME, TRUTHY, FlagStore, InvalidFlagName, check_name, is_truthy
from app.settings import Settings
from autonomic_flags import FlagClient, contract
from tests.conftest import REDIS_URL
from tests.support.procs import wait_for

NAMES = [
    "llm.model_tier",
    "ratelimit.user.u-1_2",
    "a",
    "x" * 200,
    "x" * 201,
    "Bad",
    "a b",
    "a/b",
    "ä",
    "",
    "a:b",
]


def test_names_defaults_and_words_agree() -> None:
    assert NAME.pattern == contract.NAME_PATTERN
    for name in NAMES:
        if contract.valid_name(name):
            assert check_name(name) == name
        else:
            with pytest.raises(InvalidFlagName, match=re.escape(contract.NAME_RULE)):
                check_name(name)
    assert Settings().flag_prefix == contract.DEFAULT_PREFIX
    assert frozenset(TRUTHY) == contract.TRUE_WORDS
    for word in contract.TRUE_WORDS | {w.upper() for w in contract.TRUE_WORDS}:
        assert is_truthy(word) and contract.parse_bool(word) is True
        assert flag_catalogue.typed("autonomic.paused", word) is True
    for word in contract.FALSE_WORDS:
        assert not is_truthy(word) and contract.parse_bool(word) is False
        assert flag_catalogue.typed("autonomic.paused", word) is False
    assert flag_view.BASELINE == contract.BASELINE_FIELD


def test_what_the_server_writes_and_publishes_matches_the_contract(
    sync_redis: redis.Redis, flag_prefix: str, ns: str
) -> None:
    pubsub = sync_redis.pubsub()
    pubsub.subscribe(contract.changes_channel(flag_prefix))
    wait_for(lambda: pubsub.get_message(timeout=0.1), what="subscribed")
    reader = FlagClient.from_url(REDIS_URL, prefix=flag_prefix, cache_ttl=3600)
    wait_for(lambda: reader.live, what="client subscription")
    assert reader.get("cache.mode") is None

    async def lease_and_release() -> None:
        client = aioredis.Redis.from_url(REDIS_URL, decode_responses=True)
        store = FlagStore(client, prefix=flag_prefix, namespace=ns, grace_s=60)
        await store.set("cache.mode", "aggressive", ttl_s=60, holder="alert:contract")
        assert sync_redis.get(contract.value_key(flag_prefix, "cache.mode")) == "aggressive"
        leases = sync_redis.hgetall(contract.leases_key(flag_prefix, "cache.mode"))
        assert json.loads(leases[contract.BASELINE_FIELD]) == {"absent": True}
        assert sorted(json.loads(leases["alert:contract"])) == sorted(contract.LEASE_FIELDS)
        await store.release("cache.mode", "alert:contract")
        await client.aclose()

    asyncio.run(lease_and_release())
    messages = []
    while len(messages) < 2:
        message = wait_for(lambda: pubsub.get_message(timeout=0.1), what="change message")
        if message["type"] == "message":
            messages.append(message["data"])
    pubsub.close()
    for raw in messages:
        assert sorted(json.loads(raw)) == sorted(contract.MESSAGE_FIELDS)
    set_msg, release_msg = (contract.parse_message(raw) for raw in messages)
    assert set_msg is not None and release_msg is not None
    assert (set_msg.flag, set_msg.value, set_msg.reason) == (
        "cache.mode",
        "aggressive",
        "set by alert:contract",
    )
    assert (release_msg.flag, release_msg.value) == ("cache.mode", None)
    # The whole entry travels with the change: held leases, the newest holder, the latest expiry.
    assert (set_msg.held, set_msg.holder) == (1, "alert:contract")
    assert set_msg.exp == set_msg.at + 60_000
    assert (release_msg.held, release_msg.holder, release_msg.exp) == (0, None, None)
    assert set_msg.at > 0
    assert sync_redis.exists(contract.value_key(flag_prefix, "cache.mode")) == 0
    wait_for(lambda: reader.resolve("cache.mode").value is None, what="client saw the release")
    reader.close()


@given(st.text(max_size=40))
def test_user_ids_in_flag_names_are_encoded_alike_and_reversibly(value: str) -> None:
    encoded = flags_module.name_part(value)
    assert encoded == contract.name_part(value)
    assert contract.decode_name_part(encoded) == value == flags_module.decode_name_part(encoded)
    assert encoded == "" or re.fullmatch(contract.NAME_PATTERN, encoded)
