"""Token rules: length, distinct roles, named tokens, generation only for a first run."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.errors import ConfigError
from app.settings import Settings
from app.web.credentials import Credentials

W = "w" * 24 + "-webhook"
OP = "o" * 24 + "-operator"
V = "v" * 24 + "-viewer"
REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("AUTONOMIC_"):
            monkeypatch.delenv(name)


def creds(**settings: str) -> Credentials:
    return Credentials.from_settings(Settings(**settings), announce=False)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"operator_token": ""}, "AUTONOMIC_OPERATOR_TOKEN: tokens must be at least 24 characters"),
        ({"operator_token": "x"}, "AUTONOMIC_OPERATOR_TOKEN: tokens must be at least 24 characters"),
        ({"viewer_token": "v" * 23}, "AUTONOMIC_VIEWER_TOKEN: tokens must be at least 24"),
        ({"webhook_token": "   "}, "AUTONOMIC_WEBHOOK_TOKEN: tokens must be at least 24"),
        ({"viewer_token": OP}, "AUTONOMIC_VIEWER_TOKEN: must differ from AUTONOMIC_OPERATOR_TOKEN"),
        ({"webhook_token": OP}, "must differ from"),
        ({"operator_tokens": f"a:{V}"}, "must differ from AUTONOMIC_VIEWER_TOKEN"),
        ({"operator_tokens": f"a:{'a' * 30},a:{'b' * 30}"}, "the name 'a' is also used"),
        ({"operator_tokens": f"{'a' * 30}"}, "AUTONOMIC_OPERATOR_TOKENS: each entry must be name:token"),
        ({"operator_tokens": f"bad name:{'a' * 30}"}, "each entry must be name:token"),
        ({"operator_tokens": "alice:short"}, "AUTONOMIC_OPERATOR_TOKENS (alice): tokens must be at least 24"),
        ({"metrics_token": "m" * 10}, "AUTONOMIC_METRICS_TOKEN: tokens must be at least 24"),
    ],
)
def test_weak_or_shared_tokens_stop_start_up(settings: dict[str, str], message: str) -> None:
    base = {"redis_url": REDIS, "webhook_token": W, "operator_token": OP, "viewer_token": V}
    with pytest.raises(ConfigError) as raised:
        creds(**{**base, **settings})
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)
    for secret in (W, OP, V):
        assert secret not in str(raised.value)


def test_empty_never_matches_and_roles_resolve() -> None:
    c = creds(redis_url=REDIS, webhook_token=W, operator_token=OP, viewer_token=V)
    assert c.identify(b"") is None
    assert c.identify(None) is None
    assert c.identify(OP[:-1].encode()) is None
    found = [c.identify(t.encode()) for t in (W, OP, V)]
    assert [(x.role, x.name) for x in found if x] == [
        ("webhook", "webhook"),
        ("operator", "operator"),
        ("viewer", "viewer"),
    ]


def test_named_tokens_and_single_tokens_together(tmp_path: Path) -> None:
    listed = tmp_path / "operators"
    listed.write_text(f"alice:{'a' * 30}, bob:{'b' * 24}:with-colon\n")
    c = creds(redis_url=REDIS, webhook_token=W, operator_token=OP, operator_tokens_file=str(listed))
    alice = c.identify(b"a" * 30)
    bob = c.identify(b"b" * 24 + b":with-colon")
    assert alice is not None and (alice.role, alice.name) == ("operator", "alice")
    assert bob is not None and bob.name == "bob"
    assert c.identify(OP.encode()).name == "operator"  # type: ignore[union-attr]
    assert c.named("operator", "alice") is alice


def test_real_redis_without_tokens_stops_naming_the_settings() -> None:
    with pytest.raises(ConfigError) as raised:
        creds(redis_url=REDIS)
    text = str(raised.value)
    assert "AUTONOMIC_WEBHOOK_TOKEN" in text and "AUTONOMIC_OPERATOR_TOKENS" in text
    with pytest.raises(ConfigError, match="no operator token configured"):
        creds(redis_url=REDIS, webhook_token=W, viewer_token=V)


def test_memory_generates_only_the_missing_tokens_and_prints_them_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    c = Credentials.from_settings(Settings(webhook_token=W), announce=True)  # type: ignore[call-arg]
    (generated,) = c.generated
    assert generated.role == "operator" and len(generated.secret) >= 24
    err = capsys.readouterr().err
    assert "FIRST RUN ONLY" in err
    assert err.count(generated.secret.decode()) == 1
    assert W not in err
    assert c.identify(generated.secret) is generated


def test_secret_values_list_each_named_token() -> None:
    settings = Settings(operator_tokens=f"alice:{'a' * 30},bob:{'b' * 30}")  # type: ignore[call-arg]
    assert {"a" * 30, "b" * 30} <= set(settings.secret_values())
