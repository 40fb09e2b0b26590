"""A real Prometheus (Debian `prometheus`) scraping the service and evaluating alert rules."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.support.procs import free_port, wait_for


class Prometheus:
    """One Prometheus process: 1s scrapes and evaluations, alerts to one Alertmanager."""

    def __init__(self, *, targets: list[str], rules: dict[str, Any], alertmanager: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.dir = Path(tempfile.mkdtemp(prefix="autonomic-prom-"))
        (self.dir / "rules.yml").write_text(yaml.safe_dump(rules))
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(self.dir / "rules.yml")],
            "alerting": {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]},
            "scrape_configs": [{"job_name": "autonomic", "static_configs": [{"targets": targets}]}],
        }
        (self.dir / "prometheus.yml").write_text(yaml.safe_dump(config))
        self.log = self.dir / "prometheus.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Prometheus:
        exe = shutil.which("prometheus")
        if exe is None:
            raise RuntimeError("prometheus is not installed (apt-get install prometheus)")
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    exe,
                    f"--config.file={self.dir / 'prometheus.yml'}",
                    f"--storage.tsdb.path={self.dir / 'data'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    "--rules.alert.resend-delay=2s",
                    "--log.level=warn",
                ],
                stdout=log,
                stderr=log,
            )
        wait_for(
            lambda: httpx.get(f"{self.url}/-/ready", timeout=1).status_code == 200,
            timeout=60,
            what="prometheus",
        )
        return self

    def alerts(self) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = httpx.get(f"{self.url}/api/v1/alerts", timeout=5).json()["data"][
            "alerts"
        ]
        return data

    def query(self, expr: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = httpx.get(
            f"{self.url}/api/v1/query", params={"query": expr}, timeout=5
        ).json()["data"]["result"]
        return result

    def logs(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(20)
