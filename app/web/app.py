"""The Litestar application factory and its lifespan (workers start and drain with the app)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import structlog
from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import RedocRenderPlugin, SwaggerRenderPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from app import __version__, tracing
from app.actions.redaction import Redactor
from app.engine.runtime import Runtime
from app.plugins.registry import Registry
from app.settings import Settings
from app.web import console, ofrep
from app.web.api import ApiController
from app.web.console import ConsoleController
from app.web.console_guard import console_guard, csp_nonce
from app.web.credentials import Credentials
from app.web.errors import internal_error
from app.web.health import healthz, metrics, readyz
from app.web.ofrep_auth import FlagReaders
from app.web.pause import PauseController
from app.web.webhook import alertmanager_webhook

log = structlog.get_logger(__name__)


def redacted_url(url: str) -> str:
    """`url` without its credentials, for logs."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}{rest.rsplit('@', 1)[-1]}" if sep else url


def provide_runtime(state: State) -> Runtime:
    """The replica's runtime: the one dependency through which route handlers reach its parts
    (a handler asks for it as `runtime: RuntimeDep`, app/web/deps.py)."""
    runtime: Runtime = state.runtime
    return runtime


def create_app(
    settings: Settings | None = None,
    *,
    registry: Registry | None = None,
    run_workers: bool = True,
    announce_tokens: bool = True,
) -> Litestar:
    """Build the app; playbooks are loaded here, so a bad one fails before serving."""
    settings = settings or Settings()
    runtime = Runtime.build(settings, registry)
    credentials = Credentials.from_settings(settings, announce=announce_tokens)
    flag_readers = FlagReaders.from_settings(settings, credentials)
    tracing.setup()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        log.info(
            "autonomic starting",
            version=__version__,
            redis=redacted_url(settings.redis_url),
            playbooks=[spec.name for spec in runtime.registry],
            dry_run=settings.dry_run,
        )
        try:
            await runtime.start(run_workers=run_workers)  # stops what it started if it fails
        except Exception as exc:
            # `autonomic serve` prints this as one line instead of the lifespan's traceback.
            app.state.startup_error = Redactor(settings.secret_values())(f"{type(exc).__name__}: {exc}")
            log.error("start-up failed", error=app.state.startup_error)
            raise
        try:
            yield
        finally:
            app.state.draining = True
            await runtime.stop(run_workers=run_workers)

    return Litestar(
        route_handlers=[
            alertmanager_webhook,
            ApiController,
            PauseController,
            ConsoleController,
            console.STATIC,
            *ofrep.ROUTES,
            healthz,
            readyz,
            metrics,
        ],
        template_config=TemplateConfig(
            directory=Path(__file__).parent / "templates",
            engine=JinjaTemplateEngine,
            engine_callback=lambda engine: engine.register_template_callable("csp_nonce", csp_nonce),
        ),
        # Only the console uses cookies (CSRF, headers: console_guard); /api authenticates by token.
        middleware=[console_guard],
        dependencies={"runtime": Provide(provide_runtime, sync_to_thread=False)},
        exception_handlers={500: internal_error},
        lifespan=[lifespan],
        state=State(
            {
                "runtime": runtime,
                "credentials": credentials,
                "flag_readers": flag_readers,
                "ofrep_rendered": ofrep.Rendered(),
                "draining": False,
                "startup_error": None,
            }
        ),
        # app.logs configures logging for the whole process; app.web.errors logs unhandled errors.
        logging_config=None,
        openapi_config=OpenAPIConfig(
            title="Autonomic",
            version=__version__,
            description="Alert-response automation for AI/LLM applications.",
            path="/schema",
            render_plugins=[RedocRenderPlugin(), SwaggerRenderPlugin(path="/swagger")],
        ),
    )
