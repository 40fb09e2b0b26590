"""app.testing.pytest_plugin: the `playbook_kit` fixture reaches this suite through the `pytest11`
entry point, builds kits and closes them (their keys dropped) after the test."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.testing import PlaybookKit, alert

KITS: list[PlaybookKit] = []


async def test_the_fixture_builds_kits(playbook_kit: Callable[..., PlaybookKit]) -> None:
    kit = playbook_kit(builtins=True, dry_run=True)
    KITS.append(kit)
    outcome = await kit.send(alert("CostSpike"))
    assert outcome.playbooks == ["cost_spike"]
    assert {a.status for a in outcome.actions} == {"dry_run"}  # the settings reached the kit
    redis: Any = kit._runtime.clients.commands
    assert [key async for key in redis.scan_iter(match=kit.settings.redis_namespace + "*")]  # recorded


async def test_the_kits_of_the_last_test_were_closed() -> None:
    """Runs after the test above (file order): its kit's keys are gone from the embedded Redis."""
    (kit,) = KITS
    redis: Any = kit._runtime.clients.commands
    for prefix in (kit.settings.redis_namespace, kit.settings.flag_prefix):
        assert [key async for key in redis.scan_iter(match=prefix + "*")] == []
