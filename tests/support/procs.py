"""Start and stop real processes for tests: the service, a private redis-server, Alertmanager."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(
    check: Callable[[], T | None], *, timeout: float = 20.0, interval: float = 0.05, what: str = "condition"
) -> T:
    """Poll `check` until it returns a truthy value; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_exc: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except Exception as exc:
            last_exc = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last error: {last_exc})")


class Service:
    """`autonomic serve` in a subprocess on a free port."""

    def __init__(self, env: dict[str, str], *, name: str = "svc") -> None:
        self.env = {**os.environ, **env, "AUTONOMIC_HOST": "127.0.0.1"}
        self._use_port(free_port())
        self.log_path = Path(tempfile.mkstemp(prefix=f"autonomic-{name}-", suffix=".log")[1])
        self.proc: subprocess.Popen[bytes] | None = None
        self.command = [sys.executable, "-m", "app", "serve"]  # an installed `autonomic` may replace it
        self.cwd = ROOT

    def start(self, *, wait_ready: bool = True) -> Service:
        for attempt in range(3):
            with self.log_path.open("ab") as log:
                self.proc = subprocess.Popen(self.command, cwd=self.cwd, env=self.env, stdout=log, stderr=log)
            if not wait_ready:
                return self
            try:
                self.wait_ready()
                return self
            except AssertionError:
                # free_port() releases the port before the service binds it; on a busy machine
                # another socket can take it in between. Then (only then) take another port.
                if attempt == 2 or "address already in use" not in self.logs():
                    raise
                self.proc.wait(10)
                self._use_port(free_port())
        raise AssertionError("unreachable")

    def _use_port(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.env["AUTONOMIC_PORT"] = str(port)

    def wait_ready(self, timeout: float = 30.0) -> None:
        def ready() -> str | None:
            if self.proc is not None and self.proc.poll() is not None:
                return "exited"
            return "ready" if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200 else None

        try:
            state = wait_for(ready, timeout=timeout, what=f"{self.url}/readyz")
        except AssertionError:
            raise AssertionError(f"service not ready; log:\n{self.logs()}") from None
        if state == "exited":
            assert self.proc is not None
            raise AssertionError(f"service exited with {self.proc.returncode}; log:\n{self.logs()}")

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def terminate(self, timeout: float = 30.0) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired as exc:  # say what it was doing: its last log lines
            exc.add_note("the process's last log lines:\n" + "\n".join(self.logs().splitlines()[-40:]))
            raise

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.terminate(15)
            self.kill()


class RedisServer:
    """A private redis-server on a free port, for tests that stop Redis."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = tempfile.mkdtemp(prefix="autonomic-redis-")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed")
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.dir,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def up() -> bool:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")

        wait_for(up, timeout=10, what="redis-server")
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def json_or_text(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text
