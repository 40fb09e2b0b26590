"""The console tests' Chromium (Debian's, through Playwright) and their service: named
operators and a named viewer, the test playbooks."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import NAMED_OPERATOR_TOKENS, VIEWER_TOKEN
from tests.support.procs import Service

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def svc(start_service: Callable[..., Service], test_playbooks: Path) -> Service:
    return start_service(
        AUTONOMIC_PLAYBOOK_DIRS=str(test_playbooks),
        AUTONOMIC_VIEWER_TOKENS=f"vic:{VIEWER_TOKEN}",
        AUTONOMIC_OPERATOR_TOKENS=NAMED_OPERATOR_TOKENS,
    )
