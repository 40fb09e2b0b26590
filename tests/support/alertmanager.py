"""A real Alertmanager (Debian `prometheus-alertmanager`) started for a test, and amtool."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from tests.support.procs import free_port, wait_for


def binary() -> str | None:
    return shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")


CONFIG = """\
route:
  receiver: autonomic
  group_by: ['alertname', 'fingerprint_group']
  group_wait: 0s
  group_interval: 1s
  repeat_interval: {repeat_interval}
receivers:
  - name: autonomic
    webhook_configs:
      - url: '{url}'
        send_resolved: {send_resolved}
        max_alerts: 0
        http_config:
          authorization:
            type: Bearer
            credentials: '{token}'
"""


class Alertmanager:
    """One Alertmanager process sending every alert to `webhook_url` (or configured by `text`)."""

    def __init__(
        self,
        webhook_url: str,
        token: str,
        peer: str | None = None,
        *,
        send_resolved: bool = True,
        repeat_interval: str = "1h",
        text: str | None = None,
    ) -> None:
        self.peer = peer
        self.port = free_port()
        self.cluster_port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.dir = Path(tempfile.mkdtemp(prefix="autonomic-am-"))
        config = text or CONFIG.format(
            url=webhook_url,
            token=token,
            send_resolved=str(send_resolved).lower(),
            repeat_interval=repeat_interval,
        )
        (self.dir / "alertmanager.yml").write_text(config)
        self.log = self.dir / "alertmanager.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Alertmanager:
        exe = binary()
        if exe is None:
            raise RuntimeError(
                "prometheus-alertmanager is not installed (apt-get install prometheus-alertmanager)"
            )
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    exe,
                    f"--config.file={self.dir / 'alertmanager.yml'}",
                    f"--storage.path={self.dir / 'data'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    f"--cluster.listen-address=127.0.0.1:{self.cluster_port}",
                    f"--cluster.advertise-address=127.0.0.1:{self.cluster_port}",
                    "--log.level=debug",
                    *([f"--cluster.peer={self.peer}"] if self.peer else []),
                ],
                stdout=log,
                stderr=log,
            )
        wait_for(
            lambda: httpx.get(f"{self.url}/-/ready", timeout=1).status_code == 200,
            timeout=30,
            what="alertmanager ready",
        )
        return self

    def amtool(self, *args: str) -> str:
        result = subprocess.run(
            ["amtool", f"--alertmanager.url={self.url}", *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"amtool {' '.join(args)} failed: {result.stderr}")
        return result.stdout

    def fire(self, *labels: str, annotations: tuple[str, ...] = (), starts_at: str | None = None) -> None:
        """Post the alert firing (from `starts_at`, as Prometheus resends it, or from now)."""
        start = (f"--start={starts_at}",) if starts_at else ()
        self.amtool("alert", "add", *labels, *(f"--annotation={a}" for a in annotations), *start)

    def resolve(self, *labels: str, starts_at: str, annotations: tuple[str, ...] = ()) -> None:
        """Re-post the alert ending now: Alertmanager marks it resolved."""
        end = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        self.amtool(
            "alert",
            "add",
            *labels,
            *(f"--annotation={a}" for a in annotations),
            f"--start={starts_at}",
            f"--end={end}",
        )

    def active(self) -> list[dict[str, Any]]:
        """The alerts its API reports (active, silenced and inhibited)."""
        response = httpx.get(
            f"{self.url}/api/v2/alerts",
            params={"active": "true", "silenced": "true", "inhibited": "true"},
            timeout=5,
        )
        response.raise_for_status()
        alerts: list[dict[str, Any]] = response.json()
        return alerts

    def logs(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def restart_empty(self) -> Alertmanager:
        """Stop, lose every alert and notification log (a pod without a volume), start again."""
        self.stop()
        shutil.rmtree(self.dir / "data", ignore_errors=True)
        return self.start()
