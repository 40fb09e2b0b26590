"""How `autonomic serve` runs uvicorn: bind first, fail in one line, always exit.

The listening socket is bound before the application starts, so a port in use is a one-line
error (exit 2) before any worker, scheduler job or leader lock exists. A failure inside the
application's start-up (the lifespan) is reported as the one line the lifespan recorded,
instead of uvicorn's traceback, and the process exits non-zero; the runtime has already
stopped what it started by then (`Runtime.start`).
"""

from __future__ import annotations

import logging
import socket
from typing import Any

import uvicorn

from app.cli_output import fail
from app.settings import Settings
from app.web.proxy import serving_app


def listen_socket(host: str, port: int) -> socket.socket:
    """A socket bound to host:port (listen() is left to uvicorn); a one-line error otherwise."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        fail(f"cannot listen on {host}:{port}: {(exc.strerror or str(exc)).lower()}")
    sock.set_inheritable(True)
    return sock


class _StartupTraceback(logging.Filter):
    """Drops uvicorn's copy of the lifespan traceback once the cause is known in one line."""

    def __init__(self, application: Any) -> None:
        super().__init__()
        self.application = application

    def filter(self, record: logging.LogRecord) -> bool:
        if self.application.state.startup_error is None:
            return True
        return "Traceback" not in record.getMessage()


def run(application: Any, settings: Settings, sock: socket.socket) -> None:
    """Serve `application` on `sock` until SIGTERM/SIGINT; exit 2 if it cannot start."""
    config = uvicorn.Config(
        # Forwarding headers are applied inside, so the socket peer stays known (app/web/proxy.py).
        serving_app(application, settings),
        proxy_headers=False,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(settings.shutdown_grace) + 5,
    )
    server = uvicorn.Server(config)
    quiet = _StartupTraceback(application)
    logging.getLogger("uvicorn.error").addFilter(quiet)
    try:
        server.run(sockets=[sock])
    except SystemExit:
        pass  # uvicorn exits with 3 on a failed start-up; the one line below says why
    finally:
        logging.getLogger("uvicorn.error").removeFilter(quiet)
        sock.close()
    if not server.started:
        fail(f"start-up failed: {application.state.startup_error or 'see the log above'}")
