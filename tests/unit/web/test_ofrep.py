from __future__ import annotations

import base64

import pytest
from pydantic import SecretStr

from app.actions.flag_view import FlagEntry, entry_of
from app.errors import ConfigError
from app.settings import Settings
from app.web.credentials import Credentials
from app.web.ofrep import BadRequest, _matches, evaluation, parse_request
from app.web.ofrep_auth import FlagReaders

OPERATOR, VIEWER, WEBHOOK = "o" * 30, "v" * 30, "w" * 30
FLAGS = "f" * 30


def readers(flags: str | None = FLAGS) -> FlagReaders:
    settings = Settings(
        operator_token=SecretStr(OPERATOR),
        viewer_token=SecretStr(VIEWER),
        webhook_token=SecretStr(WEBHOOK),
        flags_token=SecretStr(flags) if flags else None,
    )
    return FlagReaders.from_settings(settings, Credentials.from_settings(settings, announce=False))


@pytest.mark.parametrize(
    ("authorization", "api_key", "allowed"),
    [
        (f"Bearer {FLAGS}", None, True),
        (None, FLAGS, True),
        (f"Bearer {VIEWER}", None, True),
        (f"Bearer {OPERATOR}", None, True),
        (None, OPERATOR, True),
        ("Basic " + base64.b64encode(f"app:{FLAGS}".encode()).decode(), None, True),
        (f"Bearer {WEBHOOK}", None, False),
        (None, WEBHOOK, False),
        ("Bearer ", None, False),
        (None, "", False),
        (None, None, False),
        (f"Token {FLAGS}", None, False),
    ],
)
def test_who_may_read_flags(authorization: str | None, api_key: str | None, allowed: bool) -> None:
    assert readers().allows(authorization, api_key) is allowed


def test_without_a_flags_token_viewer_and_operator_still_read() -> None:
    assert readers(None).allows(f"Bearer {VIEWER}", None)
    assert not readers(None).allows(f"Bearer {FLAGS}", None)


@pytest.mark.parametrize(
    ("token", "message"),
    [("short", "at least 24 characters"), (OPERATOR, "must differ"), (WEBHOOK, "must differ")],
)
def test_bad_flags_tokens_fail_start_up(token: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        readers(token)


@pytest.mark.parametrize(
    "body",
    [
        b"{}",
        b'{"context": {}}',
        b'{"context": null}',
        b'{"context": {"targetingKey": "u", "plan": [1]}}',
        b'{"x": 1}',
    ],
)
def test_accepted_bodies(body: bytes) -> None:
    parse_request(body)


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        (b"", "PARSE_ERROR", "body: not valid JSON"),
        (b"[]", "PARSE_ERROR", "body: expected a JSON object"),
        (b"3", "PARSE_ERROR", "body: expected a JSON object"),
        (b'{"context": "x"}', "INVALID_CONTEXT", "context: "),
        (b'{"context": {"targetingKey": 1}}', "INVALID_CONTEXT", "context.targetingKey: expected a string"),
        (b'{"context": {"targetingKey": "\xff"}}', "PARSE_ERROR", "body: not valid JSON"),
    ],
)
def test_rejected_bodies_name_the_field(body: bytes, code: str, field: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_request(body)
    assert caught.value.code == code
    assert str(caught.value).startswith(field)


def test_if_none_match() -> None:
    assert _matches('"abc"', '"abc"')
    assert _matches('"x", W/"abc"', '"abc"')
    assert _matches("*", '"abc"')
    assert not _matches('"abd"', '"abc"')


def test_entries_and_evaluations() -> None:
    now = 1_000_000
    leases = {
        "~baseline": '{"absent": true}',
        "alert:a": '{"v": "0.5", "exp": 1005000, "at": 999000}',
        "alert:b": '{"v": "0.25", "exp": 1009000, "at": 999500}',
        "alert:gone": '{"v": "0.1", "exp": 999999, "at": 999900}',
        "broken": "{",
    }
    entry = entry_of("ratelimit.factor", "0.25", leases, now)
    assert entry == FlagEntry("ratelimit.factor", "0.25", 2, "alert:b", 1009000)
    assert evaluation(entry) == {
        "key": "ratelimit.factor",
        "value": 0.25,
        "reason": "STATIC",
        "variant": "0.25",
        "metadata": {"mitigating": True, "holders": 2, "reason": "set by alert:b", "expiresAt": 1009.0},
    }
    assert entry_of("x", None, leases, now) is None
    baseline = entry_of("cache.mode", "normal", {}, now)
    assert baseline is not None
    assert evaluation(baseline)["metadata"] == {"mitigating": False, "holders": 0, "reason": "baseline"}
