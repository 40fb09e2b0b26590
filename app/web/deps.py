"""How a request handler reaches the replica's runtime: the factory (app/web/app.py) keeps it
in the app state, and every handler and guard asks for it here."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection

from app.engine.runtime import Runtime


def runtime_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Runtime:
    """The replica's runtime, kept in the app state by the factory."""
    runtime: Runtime = connection.app.state.runtime
    return runtime
