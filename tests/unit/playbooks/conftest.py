"""Every built-in playbook test runs the shipped playbooks in a PlaybookKit (app.testing)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from app.testing import PlaybookKit


@pytest.fixture
async def kit() -> AsyncIterator[PlaybookKit]:
    async with PlaybookKit(builtins=True) as kit:
        yield kit
