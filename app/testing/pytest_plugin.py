"""The `playbook_kit` pytest fixture: builds `PlaybookKit`s for a test and closes them after it.

Registered for every pytest run where Autonomic is installed (entry point `pytest11`); or name
it yourself with `pytest_plugins = ["app.testing.pytest_plugin"]`. The fixture is async, as the
kit is: with pytest-asyncio (or anyio's pytest plugin) installed:

    async def test_cost_spike(playbook_kit) -> None:
        kit = playbook_kit("playbooks/cost.py")
        outcome = await kit.send(alert("CostSpike"))

The engine is imported when the fixture is first used, not when pytest starts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from app.testing import PlaybookKit

KitFactory = Callable[..., "PlaybookKit"]

try:
    from pytest_asyncio import fixture as async_fixture
except ImportError:  # an installed Autonomic must not break a project's pytest without it
    async_fixture = pytest.fixture  # type: ignore[assignment]  # anyio's plugin runs async fixtures declared this way


@async_fixture
async def playbook_kit() -> AsyncIterator[KitFactory]:
    """`playbook_kit(*playbooks, builtins=False, **settings)` → a `PlaybookKit`, closed after
    the test (each with its own embedded Redis namespace)."""
    from app.testing import PlaybookKit

    kits: list[PlaybookKit] = []

    def make(*playbooks: Any, builtins: bool = False, **settings: Any) -> PlaybookKit:
        kit = PlaybookKit(*playbooks, builtins=builtins, **settings)
        kits.append(kit)
        return kit

    try:
        yield make
    finally:
        for kit in kits:
            await kit.close()
