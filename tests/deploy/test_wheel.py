"""Install as a newcomer does: build the wheel (as the Dockerfile does), install it non-editable
into a fresh venv with its dependencies, run `autonomic serve` on the embedded defaults, and
run the README's "Try it by hand" commands word for word: firing sets the flags, resolved
restores them. An editable install would hide a package or file missing from the wheel."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.procs import ROOT, Service, wait_for

README = (ROOT / "README.md").read_text()


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding the built wheel (not the checkout) and its dependencies."""
    tmp = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp / "dist"), "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp / "dist").glob("autonomic-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(tmp / "venv")], check=True, timeout=120)
    installed = subprocess.run(
        [str(tmp / "venv" / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", str(wheel)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return tmp / "venv"


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without anything that would point at the checkout or our settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTONOMIC_", "PYTHON", "VIRTUAL_ENV"))}
    return {**env, **extra}


def test_the_installed_package_is_the_wheel(venv: Path, tmp_path: Path) -> None:
    code = "import app, app.jobs, app.builtin_playbooks, app.web; print(app.__file__)"
    found = subprocess.run(
        [str(venv / "bin" / "python"), "-c", code],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
    )
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip().startswith(str(venv)), found.stdout  # not the checkout
    listed = subprocess.run(
        [str(venv / "bin" / "autonomic"), "playbooks", "--json"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
    )
    assert listed.returncode == 0, listed.stderr
    assert "cost_spike" in {p["name"] for p in json.loads(listed.stdout)}
    # app.testing ships, runs the shipped playbooks, and its pytest fixture is registered.
    kit = (
        "import asyncio, importlib.metadata as md\n"
        "from app.testing import PlaybookKit, alert\n"
        "async def main():\n"
        "    async with PlaybookKit(builtins=True) as kit:\n"
        "        print((await kit.send(alert('CostSpike'))).flags['llm.model_tier'])\n"
        "asyncio.run(main())\n"
        "print([e.value for e in md.entry_points(group='pytest11') if e.name == 'autonomic'])\n"
    )
    ran = subprocess.run(
        [str(venv / "bin" / "python"), "-c", kit],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines() == ["economy", "['app.testing.pytest_plugin']"], ran.stdout
    # The dashboards tool is for a checkout with the `dashboards` extra: one line, exit 2, no traceback.
    tool = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "app.dashboards", "--check"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
    )
    assert (tool.returncode, tool.stderr.count("\n")) == (2, 1), tool.stderr
    assert tool.stderr.startswith("error: the Grafana Foundation SDK is missing"), tool.stderr


def readme_try_it_by_hand() -> list[str]:
    """The shell commands of the README's "Try it by hand" block (continuations joined)."""
    block = README.split("Try it by hand", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    commands = block.replace("\\\n", " ").splitlines()
    return [re.sub(r"\s+#.*$", "", c).strip() for c in commands if c.strip()]


@pytest.fixture
def served(venv: Path, tmp_path: Path) -> Iterator[Service]:
    """`autonomic serve` from the venv with no settings at all (memory://, generated tokens)."""
    service = Service(clean_env(), name="wheel")
    service.env = clean_env()  # no AUTONOMIC_* at all: the port comes from the command line
    service.command = [
        str(venv / "bin" / "autonomic"),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(service.port),
    ]
    service.cwd = tmp_path
    service.start()
    try:
        yield service
    finally:
        service.stop()


def test_readme_try_it_by_hand_against_the_installed_wheel(served: Service) -> None:
    logs = served.logs()
    tokens = dict(re.findall(r"^  (WEBHOOK|OPERATOR)_TOKEN=(\S+)$", logs, re.MULTILINE))
    assert set(tokens) == {"WEBHOOK", "OPERATOR"}, logs
    notices = [line for line in logs.splitlines() if line.startswith("autonomic:")]
    assert notices and all(len(line) <= 80 for line in notices), notices
    assert "Warning" not in logs  # no false CSRF warning (nor any other) at start

    env = {**os.environ, "WEBHOOK_TOKEN": tokens["WEBHOOK"], "OPERATOR_TOKEN": tokens["OPERATOR"]}
    fire, show, resolve = readme_try_it_by_hand()
    operator = {"Authorization": f"Bearer {tokens['OPERATOR']}"}

    def shell(command: str) -> str:
        command = command.replace("localhost:8080", f"localhost:{served.port}")
        done = subprocess.run(
            ["bash", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert json.loads(shell(fire)) == {"accepted": 1, "duplicates": 0}
    held = wait_for(
        lambda: {
            f["name"]: f["value"] for f in httpx.get(f"{served.url}/api/flags", headers=operator).json()
        },
        what="flags set by the firing alert",
    )
    assert held == {"llm.model_tier": "economy", "cache.mode": "aggressive", "ratelimit.factor": "0.5"}
    assert {f["name"] for f in json.loads(shell(show))} == set(held)
    assert json.loads(shell(resolve)) == {"accepted": 1, "duplicates": 0}
    wait_for(
        lambda: httpx.get(f"{served.url}/api/flags", headers=operator).json() == [],
        what="flags restored by the resolve",
    )
    assert json.loads(shell(show)) == []
