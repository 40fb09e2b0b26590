"""How a request handler reaches the replica's runtime: the factory (app/web/app.py) keeps it
in the app state; a route handler asks for it as `runtime: RuntimeDep` (a named dependency),
guards and other connection-level code through `runtime_of`."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.di import NamedDependency

from app.engine.runtime import Runtime

# How a route handler asks for the runtime: `runtime: RuntimeDep` (provided by app/web/app.py).
RuntimeDep = NamedDependency[Runtime]


def runtime_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Runtime:
    """The replica's runtime, kept in the app state by the factory."""
    runtime: Runtime = connection.app.state.runtime
    return runtime
