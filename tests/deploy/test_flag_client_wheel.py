"""The autonomic-flags wheel, installed as an application installs it: a fresh venv, non-editable.

It must bring redis and nothing of the server (no litestar, no kubernetes),
and read a flag that a running Autonomic set from an alert.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import venv
import zipfile
from collections.abc import Callable
from pathlib import Path

from tests.conftest import REDIS_URL
from tests.integration.helpers import alert, payload, post
from tests.support.procs import ROOT, Service

CLIENT = ROOT / "clients" / "python"


def run(*cmd: str | Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_the_wheel_installs_alone_and_reads_what_the_service_set(
    tmp_path: Path, start_service: Callable[..., Service], flag_prefix: str
) -> None:
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", tmp_path / "dist", CLIENT)
    (wheel,) = (tmp_path / "dist").glob("autonomic_flags-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {
        "autonomic_flags/contract.py",
        "autonomic_flags/openfeature.py",
        "autonomic_flags/py.typed",
    } <= names
    assert not any(n.startswith(("app/", "tests/")) for n in names)

    env = tmp_path / "venv"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    run(python, "-m", "pip", "install", "-q", "--disable-pip-version-check", wheel)
    listed = json.loads(run(python, "-m", "pip", "list", "--format=json").stdout)
    installed = {item["name"].lower().replace("_", "-") for item in listed}
    assert "redis" in installed
    assert "autonomic-flags" in installed
    for server_dependency in ("litestar", "kubernetes", "uvicorn", "fakeredis", "slack-sdk", "sqlalchemy"):
        assert server_dependency not in installed, (
            f"{server_dependency} came with the client: {sorted(installed)}"
        )

    svc = start_service()
    assert post(svc.url, payload(alert("CostSpike"))).status_code == 202
    script = textwrap.dedent(
        f"""
        import json, sys, time
        import autonomic_flags
        from autonomic_flags import FlagClient
        assert "site-packages" in autonomic_flags.__file__, autonomic_flags.__file__
        with FlagClient.from_url({REDIS_URL!r}, prefix={flag_prefix!r}) as flags:
            deadline = time.monotonic() + 20
            while flags.get_str("llm.model_tier", "standard") != "economy" and time.monotonic() < deadline:
                time.sleep(0.05)
            print(json.dumps({{"tier": flags.get_str("llm.model_tier", "standard"),
                               "factor": flags.get_float("ratelimit.factor", 1.0),
                               "modules": sorted({{m.split(".")[0] for m in sys.modules}})}}))
        """
    )
    out = json.loads(run(python, "-c", script).stdout)
    assert out["tier"] == "economy"
    assert out["factor"] == 0.5
    assert not {"app", "litestar", "kubernetes"} & set(out["modules"])
