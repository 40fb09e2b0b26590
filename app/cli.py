"""The `autonomic` command: serve, list playbooks, simulate a payload.

User errors print one clear line and exit non-zero; no tracebacks.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
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
    from app.models import Alert, InvalidPayload, decode_payload

    settings = load_settings()
    try:
        body = sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    try:
        runtime = Runtime.build(settings)
    except AutonomicError as exc:
        fail(str(exc))
    try:
        payload = decode_payload(body)
    except InvalidPayload as exc:
        fail(f"{file}: {exc}")

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


# -- commands against a running service ---------------------------------------------------------

UrlOpt = Annotated[str, typer.Option("--url", envvar="AUTONOMIC_URL", help="Autonomic's base URL.")]
TokenOpt = Annotated[
    str | None, typer.Option("--token", envvar="AUTONOMIC_TOKEN", help="Operator (or viewer) token.")
]
ActorOpt = Annotated[
    str | None, typer.Option("--as", envvar="USER", help="Your name, recorded with what you do.")
]


def client(url: str, token: str | None, actor: str | None = None) -> Any:
    from app.cli_client import Client

    return Client(url, token, actor)


def api(fn: Any) -> Any:
    """Turn API errors into one line on stderr."""
    from app.cli_client import ApiError

    try:
        return fn()
    except ApiError as exc:
        fail(str(exc))


@cli.command()
def trigger(
    name: Annotated[str, typer.Argument(help="Playbook name.")],
    label: Annotated[list[str] | None, typer.Option("--label", "-l", help="k=v, repeatable.")] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="k=v (JSON values), repeatable.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Record what would be done, do nothing.")
    ] = False,
    reason: Annotated[str | None, typer.Option("--reason", help="Why (recorded).")] = None,
    url: UrlOpt = "http://localhost:8080",
    token: TokenOpt = None,
    actor: ActorOpt = None,
) -> None:
    """Run a playbook now (through the queue, like an alert)."""
    labels, params = {}, {}
    for item in label or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            fail(f"--label {item!r}: use k=v")
        labels[key] = value
    for item in param or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            fail(f"--param {item!r}: use k=v")
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value
    body = {"labels": labels, "params": params, "dry_run": dry_run, "reason": reason}
    result = api(lambda: client(url, token, actor).call("POST", f"/api/playbooks/{name}/trigger", json=body))
    out.print(
        f"queued {'dry-run ' if dry_run else ''}{name}: [bold]{result['execution_id']}[/]", highlight=False
    )


@cli.command()
def flags(
    revert: Annotated[str | None, typer.Option("--revert", help="End every lease on this flag now.")] = None,
    url: UrlOpt = "http://localhost:8080",
    token: TokenOpt = None,
    actor: ActorOpt = None,
) -> None:
    """Active mitigations (flags held by leases), or revert one."""
    http = client(url, token, actor)
    if revert:
        done = api(lambda: http.call("DELETE", f"/api/flags/{revert}"))
        value = done["value"] if done["value"] is not None else "(absent)"
        out.print(f"reverted {revert}: {done['leases_ended']} lease(s) ended, now {value}", highlight=False)
        return
    active = api(lambda: http.call("GET", "/api/flags"))
    if not active:
        out.print("no flag is held by a mitigation")
        return
    table = Table("flag", "value", "baseline", "holders", "expires in")
    now = time.time()
    for flag in active:
        table.add_row(
            flag["name"],
            str(flag["value"]),
            "(absent)" if flag["baseline_absent"] else str(flag["baseline"]),
            "\n".join(lease["holder"] for lease in flag["leases"]),
            "\n".join(f"{max(0, lease['expires_at'] - now):.0f}s" for lease in flag["leases"]),
        )
    out.print(table)


def _execution_row(table: Table, execution: dict[str, Any]) -> None:
    actions = ", ".join(f"{a['kind']} {a['target']} ({a['status']})" for a in execution["actions"])
    when = time.strftime("%H:%M:%S", time.localtime(execution["started_at"]))
    table.add_row(
        when,
        execution["playbook"],
        execution["alert"]["labels"].get("alertname", ""),
        execution["status"],
        actions or "-",
        execution["id"],
    )


@cli.command()
def executions(
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new executions.")] = False,
    limit: Annotated[int, typer.Option("--limit", help="How many recent ones.")] = 20,
    playbook: Annotated[str | None, typer.Option("--playbook")] = None,
    interval: Annotated[float, typer.Option("--interval", help="Seconds between polls with --follow.")] = 2.0,
    max_polls: Annotated[int, typer.Option("--max-polls", hidden=True)] = 0,
    url: UrlOpt = "http://localhost:8080",
    token: TokenOpt = None,
) -> None:
    """Recent executions, newest last; --follow to keep watching."""
    http = client(url, token)
    params: dict[str, Any] = {"limit": limit}
    if playbook:
        params["playbook"] = playbook
    seen: set[str] = set()
    polls = 0
    while True:
        recent = api(lambda: http.call("GET", "/api/executions", params=params))
        fresh = [e for e in reversed(recent) if e["id"] not in seen]
        if fresh or not follow:
            table = Table("time", "playbook", "alert", "status", "actions", "id", show_header=not seen)
            for execution in fresh:
                _execution_row(table, execution)
                seen.add(execution["id"])
            out.print(table)
        polls += 1
        if not follow or (max_polls and polls >= max_polls):
            return
        try:
            time.sleep(interval)
        except KeyboardInterrupt:
            return


def _decide(
    decision: str, execution_id: str, comment: str, url: str, token: str | None, actor: str | None
) -> None:
    body = {"comment": comment}
    done = api(
        lambda: client(url, token, actor).call(
            "POST", f"/api/executions/{execution_id}/{decision}", json=body
        )
    )
    out.print(f"{decision}d {done['playbook']} ({execution_id}): {done['description']}", highlight=False)


@cli.command()
def approvals(url: UrlOpt = "http://localhost:8080", token: TokenOpt = None) -> None:
    """Executions waiting for an approval."""
    pending = api(lambda: client(url, token).call("GET", "/api/approvals"))
    if not pending:
        out.print("nothing is waiting for approval")
        return
    table = Table("execution", "playbook", "alert", "waiting for", "deadline in")
    for item in pending:
        table.add_row(
            item["execution_id"],
            item["playbook"],
            item["alertname"],
            item["description"],
            f"{max(0, item['deadline'] - time.time()):.0f}s",
        )
    out.print(table)


@cli.command()
def approve(
    execution_id: str,
    comment: Annotated[str, typer.Option("--comment")] = "",
    url: UrlOpt = "http://localhost:8080",
    token: TokenOpt = None,
    actor: ActorOpt = None,
) -> None:
    """Approve the gate an execution waits at."""
    _decide("approve", execution_id, comment, url, token, actor)


@cli.command()
def reject(
    execution_id: str,
    comment: Annotated[str, typer.Option("--comment")] = "",
    url: UrlOpt = "http://localhost:8080",
    token: TokenOpt = None,
    actor: ActorOpt = None,
) -> None:
    """Reject the gate an execution waits at."""
    _decide("reject", execution_id, comment, url, token, actor)


def main() -> None:
    """Console-script entry point."""
    cli()
