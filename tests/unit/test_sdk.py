"""The playbook SDK is typed: mypy (strict) accepts a well-formed playbook and rejects a playbook
with the wrong signature or a misspelt option, naming each."""

import subprocess
import sys
from pathlib import Path

import app.sdk
from tests.support.procs import ROOT

GOOD = '''
from app.sdk import Alert, Context, Kind, playbook


@playbook(match='alertname="A"', cooldown="10m", timeout="30s", approval=True)
async def restart_it(alert: Alert, ctx: Context) -> None:
    """Every option is a keyword argument; Kind is exported; ctx.log is typed."""
    kind: Kind = "deployment"
    ctx.log.info("restarting", kind=kind)
    await ctx.kube.restart(kind, alert.labels.get("deployment", "chat"), "llm")


@playbook(on="manual", name="plain")
def plain_def(alert: Alert, ctx: Context) -> None:
    ctx.log.warning("a plain def runs in a thread")
'''

BAD = """
from app.sdk import Alert, Context, playbook


@playbook(match='alertname="A"')
async def one_argument(alert: Alert) -> None: ...


@playbook(match='alertname="A"')
async def wrong_ctx(alert: Alert, ctx: int) -> None: ...


@playbook(match='alertname="A"', approvel=True)
async def misspelt(alert: Alert, ctx: Context) -> None: ...


@playbook(match='alertname="A"')
async def logs(alert: Alert, ctx: Context) -> None:
    ctx.log.shout("no such level")
"""


def mypy(path: Path) -> subprocess.CompletedProcess[str]:
    """mypy --strict with the project's configuration (and its pydantic plugin) on one file."""
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def test_mypy_accepts_a_well_formed_playbook(tmp_path: Path) -> None:
    path = tmp_path / "good_playbook.py"
    path.write_text(GOOD)
    result = mypy(path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_rejects_wrong_signatures_and_options(tmp_path: Path) -> None:
    path = tmp_path / "bad_playbook.py"
    path.write_text(BAD)
    result = mypy(path)
    assert result.returncode == 1, result.stdout + result.stderr
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 4, result.stdout
    one_argument, wrong_ctx, misspelt, logs = errors
    assert f"{path.name}:5:" in one_argument and "Callable[[Alert], Coroutine" in one_argument
    assert f"{path.name}:9:" in wrong_ctx and "Callable[[Alert, int], Coroutine" in wrong_ctx
    assert f"{path.name}:13:" in misspelt
    assert 'Unexpected keyword argument "approvel"' in misspelt
    assert f"{path.name}:19:" in logs and '"shout"' in logs


def test_the_public_names_are_importable() -> None:
    for name in app.sdk.__all__:
        assert getattr(app.sdk, name) is not None
    assert set(app.sdk.KINDS) == {"deployment", "statefulset", "daemonset"}
