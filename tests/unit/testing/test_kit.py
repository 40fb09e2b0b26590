"""app.testing.PlaybookKit: playbooks from files, modules and functions run through the real
dispatcher on an embedded Redis of their own; payloads in, actions and flags out."""

from __future__ import annotations

import json
import types
from pathlib import Path

import pytest

from app.errors import PlaybookError
from app.sdk import Alert, Context, TemporaryError, playbook
from app.testing import PlaybookKit, alert, resolved
from tests.support.procs import ROOT

SOURCE = '''
from app.sdk import Alert, Context, playbook


@playbook(match='alertname="Hot", team="ml"', cooldown="1h")
async def cool_down(alert: Alert, ctx: Context) -> None:
    """Slow the GPUs; page when critical."""
    await ctx.flags.set("gpu.power", "low", ttl="30m")
    if alert.critical:
        await ctx.pagerduty.trigger()


@playbook(on="manual")
def plain(alert: Alert, ctx: Context) -> None:
    ctx.flags.set("plain.flag", "on", ttl="10m")
'''


ATTEMPTS: list[str] = []


@playbook(match='alertname="Flaky"')
async def flaky(alert: Alert, ctx: Context) -> None:
    """Sets a flag, fails once with TemporaryError, then succeeds (a module-level playbook)."""
    await ctx.flags.set("flaky.flag", "on", ttl="10m")
    ATTEMPTS.append(alert.fingerprint)
    if len(ATTEMPTS) == 1:
        raise TemporaryError("busy", delay=0)


@pytest.fixture
def playbook_file(tmp_path: Path) -> Path:
    path = tmp_path / "hot.py"
    path.write_text(SOURCE)
    return path


async def test_a_file_runs_through_dispatch_and_leaves_its_flags(playbook_file: Path) -> None:
    async with PlaybookKit(playbook_file) as kit:
        assert kit.names == ["cool_down", "plain"]
        firing = alert("Hot", team="ml", severity="critical")
        outcome = await kit.send(firing)
        assert outcome.alerts == [firing]
        assert outcome.calls == [
            ("flags.set", "gpu.power"),
            ("pagerduty.trigger", f"autonomic-{firing.fingerprint}"),
        ]
        assert outcome.run("cool_down").status == "succeeded"
        assert outcome.flags == {"gpu.power": "low"} == await kit.flags()
        assert (await kit.send(alert("Hot", team="other"))).runs == []
        assert (await kit.send(resolved(firing))).flags == {}


async def test_a_webhook_payload_as_dict_text_bytes_or_file(playbook_file: Path, tmp_path: Path) -> None:
    payload = json.loads((ROOT / "tests/fixtures/alertmanager/00-CostSpike-firing.json").read_text())
    payload["alerts"][0]["labels"].update(alertname="Hot", team="ml")
    file = tmp_path / "payload.json"
    file.write_text(json.dumps(payload))
    for given in (payload, json.dumps(payload), json.dumps(payload).encode(), file):
        async with PlaybookKit(playbook_file) as kit:
            outcome = await kit.send(given)
            assert outcome.playbooks == ["cool_down"], given
            assert outcome.alerts[0].fingerprint == payload["alerts"][0]["fingerprint"]


async def test_plan_changes_nothing(playbook_file: Path) -> None:
    async with PlaybookKit(playbook_file) as kit:
        plan = await kit.plan(alert("Hot", team="ml"))
        assert (plan.run("cool_down").status, plan.calls) == ("would run", [("flags.set", "gpu.power")])
        assert plan.flags == {}
        sent = await kit.send(alert("Hot", team="ml"))  # the plan took no cooldown slot
        assert [a.status for a in sent.actions] == ["ok"]


async def test_a_module_a_function_and_a_plain_def(playbook_file: Path) -> None:
    module = types.ModuleType("hot_module")
    exec(compile(SOURCE, "hot_module.py", "exec"), module.__dict__)
    async with PlaybookKit(module, flaky) as kit:
        assert kit.names == ["cool_down", "plain", "flaky"]
        retried = await kit.send(alert("Flaky"))
        assert len(ATTEMPTS) == 2  # retried as the service retries, the flag set once
        assert (retried.run("flaky").status, retried.calls) == ("succeeded", [("flags.set", "flaky.flag")])
        manual = await kit.trigger("plain", reason="test")
        assert (manual.run("plain").status, manual.flags["plain.flag"]) == ("succeeded", "on")
        with pytest.raises(KeyError, match="no playbook named 'nope'"):
            await kit.trigger("nope")


async def test_each_kit_has_its_own_state_and_close_drops_it(playbook_file: Path) -> None:
    first, second = PlaybookKit(playbook_file), PlaybookKit(playbook_file)
    await first.send(alert("Hot", team="ml"))
    assert await second.flags() == {}
    redis = first._runtime.clients.commands
    await first.close()
    assert [key async for key in redis.scan_iter(match=first.settings.redis_namespace + "*")] == []
    await second.close()


async def test_the_environment_does_not_leak_in(playbook_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTONOMIC_DRY_RUN", "true")
    monkeypatch.setenv("AUTONOMIC_REDIS_URL", "redis://127.0.0.1:1/0")
    async with PlaybookKit(playbook_file) as kit:
        assert (await kit.send(alert("Hot", team="ml"))).flags == {"gpu.power": "low"}
    async with PlaybookKit(playbook_file, dry_run=True) as kit:
        dry = await kit.send(alert("Hot", team="ml"))
        assert ([a.status for a in dry.actions], dry.flags) == (["dry_run"], {})


def test_bad_input_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PlaybookError, match="no such playbook file"):
        PlaybookKit(tmp_path / "missing.py")
    with pytest.raises(PlaybookError, match="is not a playbook"):
        PlaybookKit(test_bad_input_is_refused)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="memory:// Redis only"):
        PlaybookKit(redis_url="redis://127.0.0.1:6379/0")
    with pytest.raises(ValueError, match="status must be"):
        alert("X", "pending")
