"""The `autonomic` command: serve, list playbooks, simulate a payload.

User errors print one clear line and exit non-zero; no tracebacks.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import msgspec
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from app.errors import AutonomicError
from app.settings import Settings

cli = typer.Typer(
    name="autonomic",
    help="Alert-response automation for AI/LLM applications.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)


@cli.callback()
def _setup() -> None:
    """Local commands log warnings to stderr in a readable format; `serve` switches to its own."""
    from app import logs

    logs.configure("warning", "console")


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one line on stderr and exit."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
    raise typer.Exit(code)


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment, with CLI overrides; bad settings are a user error."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        problems = "; ".join(
            f"AUTONOMIC_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors()
        )
        fail(f"invalid settings: {problems}")


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Listen address [env AUTONOMIC_HOST].")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port [env AUTONOMIC_PORT].")] = None,
) -> None:
    """Run the service: webhook intake, workers and API."""
    import uvicorn

    from app import logs
    from app.web.app import create_app

    settings = load_settings(host=host, port=port)
    logs.configure(settings.log_level, settings.log_format)
    try:
        application = create_app(settings)
    except AutonomicError as exc:
        fail(str(exc))
    if settings.redis_url.startswith("memory://"):
        err.print(
            "autonomic: using the embedded in-process Redis (memory://); state is lost on exit. "
            "Set AUTONOMIC_REDIS_URL=redis://... for production.",
            highlight=False,
        )
    uvicorn.run(
        application,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(settings.shutdown_grace) + 5,
    )


@cli.command("playbooks")
def list_playbooks() -> None:
    """List the playbooks this configuration loads (fails on a broken one)."""
    from app.plugins import loader

    settings = load_settings()
    try:
        registry = loader.load(settings.playbook_paths, use_entry_points=settings.playbook_entry_points)
    except AutonomicError as exc:
        fail(str(exc))
    table = Table("name", "match", "on", "cooldown", "dry-run", "description")
    for spec in registry:
        table.add_row(
            spec.name,
            spec.match,
            spec.on,
            f"{spec.cooldown:g}s" if spec.cooldown else "-",
            "yes" if spec.dry_run else "no",
            spec.description.splitlines()[0] if spec.description else "",
        )
    out.print(table)


@cli.command()
def simulate(
    file: Annotated[Path, typer.Argument(help="Alertmanager webhook payload (JSON); - for stdin.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
) -> None:
    """Show which playbooks a payload would run and what each would do; nothing changes."""
    from app.engine.runtime import Runtime
    from app.models import Alert
    from app.web.webhook import _parse

    settings = load_settings()
    try:
        body = sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    try:
        runtime = Runtime.build(settings)
    except AutonomicError as exc:
        fail(str(exc))
    from litestar.exceptions import ClientException

    try:
        payload = _parse(body)
    except ClientException as exc:
        fail(f"{file}: {exc.detail}")

    async def plan() -> list[dict[str, Any]]:
        results = []
        try:
            for item in payload.alerts:
                alert = Alert.from_webhook(item, payload)
                plans = await runtime.dispatcher.plan(alert)
                results.append({"alert": alert, "plans": plans})
        finally:
            await runtime.clients.close()
        return results

    try:
        results = asyncio.run(plan())
    except (OSError, ConnectionError) as exc:
        fail(f"redis unavailable at {settings.redis_url}: {exc}")
    if as_json:
        out.print_json(msgspec.json.encode(results).decode())
        return
    for result in results:
        alert = result["alert"]
        out.print(f"[bold]{alert.name or '(no alertname)'}[/] {alert.status} {alert.fingerprint}")
        if not result["plans"]:
            out.print("  no playbook matches")
        for p in result["plans"]:
            state = "would run" if p.would_run else f"would not run: {p.skipped_reason or p.error}"
            out.print(f"  [cyan]{p.playbook}[/]: {state}")
            for action in p.actions:
                params = json.dumps(action.params, sort_keys=True)
                out.print(f"    {action.index}. {action.kind} {action.target} {params}", highlight=False)


def main() -> None:
    """Console-script entry point."""
    cli()
