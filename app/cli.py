"""The `autonomic` command: serve, list playbooks, simulate a payload, and talk to a running service.

User errors print one clear line and exit 2; no tracebacks. Output goes through
`app.cli_output`: never Rich markup, `--json` on every listing, identifiers never cut.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import msgspec
import typer
from pydantic import ValidationError

from app.cli_output import (
    Column,
    err,
    fail,
    note,
    out,
    print_json,
    print_json_line,
    print_table,
    say,
)
from app.durations import format_duration
from app.errors import AutonomicError
from app.settings import Settings, builtin_playbook_dir

cli = typer.Typer(
    name="autonomic",
    help="Alert-response automation for AI/LLM applications.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help texts are plain: "[env …]" and "[a-z]" must not vanish
)
__all__ = ["cli", "err", "fail", "main", "out"]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@cli.callback()
def _setup() -> None:
    """Local commands log warnings to stderr in a readable format; `serve` switches to its own."""
    from app import logs

    logs.configure("warning", "console")


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment, with CLI overrides; bad settings are a user error."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        problems = "; ".join(
            f"AUTONOMIC_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors()
        )
        fail(f"invalid settings: {problems}")


def load_registry(settings: Settings, dirs: list[Path] | None) -> Any:
    """The playbooks of this configuration; with `dirs`, the built-ins plus those directories."""
    from app.plugins import loader

    paths = settings.playbook_paths
    if dirs:
        for directory in dirs:
            if not directory.is_dir():
                fail(f"{directory}: not a directory")
        builtin = builtin_playbook_dir() if settings.builtin_playbooks else None
        paths = [*([builtin] if builtin else []), *dirs]
    try:
        return loader.load(paths, use_entry_points=settings.playbook_entry_points)
    except AutonomicError as exc:
        fail(str(exc))


@cli.command()
def serve(
    host: Annotated[str, typer.Option(envvar="AUTONOMIC_HOST", help="Listen address.")] = str(
        Settings.model_fields["host"].default
    ),
    port: Annotated[int, typer.Option(envvar="AUTONOMIC_PORT", min=1, max=65535, help="Listen port.")] = int(
        Settings.model_fields["port"].default
    ),
) -> None:
    """Run the service: webhook intake, workers and API."""
    from app import cli_serve, logs
    from app.web.app import create_app

    settings = load_settings(host=host, port=port)
    logs.configure(settings.log_level, settings.log_format)
    sock = cli_serve.listen_socket(settings.host, settings.port)  # port in use: exit before anything
    try:
        application = create_app(settings)
    except AutonomicError as exc:
        fail(str(exc))
    if settings.redis_url.startswith("memory://"):
        note("autonomic: Redis is in-process (memory://): state is lost on exit and")
        note("applications cannot read the flags; set AUTONOMIC_REDIS_URL=redis://…")
    cli_serve.run(application, settings, sock)


@cli.command("playbooks")
def list_playbooks(
    dirs: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="[DIR]...", help="Check these directories instead of AUTONOMIC_PLAYBOOK_DIRS."
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Check and list the playbooks this configuration loads.

    Fails on a broken one, naming the file. Starts nothing.
    """
    from app.plugins.overview import playbook_view
    from app.plugins.unawaited import unawaited_calls

    registry = load_registry(load_settings(), dirs)
    forgotten = [problem for spec in registry for problem in unawaited_calls(spec.fn)]
    if forgotten:
        fail("; ".join(forgotten))
    found = [playbook_view(spec) for spec in registry]
    if as_json:
        print_json(found)
        return
    columns = [
        Column("name", whole=True),
        Column("match", min_width=24),
        Column("on"),
        Column("cooldown", drop_order=3),
        Column("dry-run", drop_order=2),
        Column("description", drop_order=1, min_width=24),
    ]
    rows = [
        [
            p["name"],
            p["match"],
            p["on"],
            p["cooldown"] or "-",
            "yes" if p["dry_run"] else "no",
            p["description"],
        ]
        for p in found
    ]
    print_table(columns, rows)


@cli.command()
def simulate(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="Alertmanager webhook payload (JSON); - for stdin.")
    ],
    playbooks: Annotated[
        list[Path] | None,
        typer.Option(
            "--playbooks",
            metavar="DIR",
            help="Use the built-ins plus this directory (repeatable) instead of AUTONOMIC_PLAYBOOK_DIRS.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
) -> None:
    """Show what a payload would do; changes nothing.

    Lists which playbooks the alerts would run and the actions each would take.
    """
    from app.cli_plan import print_plans
    from app.engine.runtime import Runtime
    from app.models import Alert, InvalidPayload, decode_payload

    settings = load_settings()
    try:
        body = sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    registry = load_registry(settings, playbooks)
    try:
        runtime = Runtime.build(settings, registry)
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
            await runtime.adapters.close()
            await runtime.clients.close()
        return results

    try:
        results = asyncio.run(plan())
    except (OSError, ConnectionError) as exc:
        fail(f"redis unavailable at {settings.redis_url}: {exc}")
    if as_json:
        print_json(msgspec.to_builtins(results))
        return
    print_plans(results, embedded_redis=settings.redis_url.startswith("memory://"))


# -- commands against a running service ---------------------------------------------------------

UrlOpt = Annotated[str, typer.Option("--url", envvar="AUTONOMIC_URL", help="Autonomic's base URL.")]
TokenOpt = Annotated[
    str | None, typer.Option("--token", envvar="AUTONOMIC_TOKEN", help="Operator (or viewer) token.")
]


def client(url: str, token: str | None) -> Any:
    """An API client; what it does is recorded under the name of `token`."""
    from app.cli_client import Client

    return Client(url, token)


def api(fn: Any) -> Any:
    """Turn API errors into one line on stderr."""
    from app.cli_client import ApiError

    try:
        return fn()
    except ApiError as exc:
        fail(str(exc))


def key_values(items: list[str] | None, option: str) -> dict[str, str]:
    """`k=v` options as a dict (a later key wins); fails naming the option on an item without `=`."""
    pairs: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            fail(f"{option} {item!r}: use k=v")
        pairs[key] = value
    return pairs


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
) -> None:
    """Run a playbook now (through the queue, like an alert)."""
    labels = key_values(label, "--label")
    params: dict[str, Any] = {}
    for key, value in key_values(param, "--param").items():
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value
    body = {"labels": labels, "params": params, "dry_run": dry_run, "reason": reason}
    result = api(lambda: client(url, token).call("POST", f"/api/playbooks/{name}/trigger", json=body))
    say(f"queued {'dry-run ' if dry_run else ''}{name}: ", (result["execution_id"], "bold"))


@cli.command()
def flags(
    revert: Annotated[str | None, typer.Option("--revert", help="End every lease on this flag now.")] = None,
    as_json: JsonOpt = False,
    url: UrlOpt = "http://localhost:8080",
    token: TokenOpt = None,
) -> None:
    """Active mitigations (flags held by leases), or revert one."""
    http = client(url, token)
    if revert:
        done = api(lambda: http.call("DELETE", f"/api/flags/{revert}"))
        if as_json:
            print_json(done)
            return
        value = done["value"] if done["value"] is not None else "(absent)"
        say(f"reverted {revert}: {done['leases_ended']} lease(s) ended, now {value}")
        return
    active = api(lambda: http.call("GET", "/api/flags"))
    if as_json:
        print_json(active)
        return
    if not active:
        say("no flag is held by a mitigation")
        return
    now = time.time()
    columns = [
        Column("flag", whole=True),
        Column("value"),
        Column("baseline", drop_order=2),
        Column("holders"),
        Column("expires in", drop_order=1),
    ]
    rows = [
        [
            flag["name"],
            str(flag["value"]),
            "(absent)" if flag["baseline_absent"] else str(flag["baseline"]),
            "\n".join(lease["holder"] for lease in flag["leases"]),
            "\n".join(format_duration(max(0, round(lease["expires_at"] - now))) for lease in flag["leases"]),
        ]
        for flag in active
    ]
    print_table(columns, rows)


EXECUTION_COLUMNS = [
    Column("time", drop_order=3),
    Column("playbook", whole=True),
    Column("alert", drop_order=2),
    Column("status"),
    Column("actions", drop_order=1),
    Column("id", whole=True),
]


def _execution_row(execution: dict[str, Any]) -> list[str]:
    actions = ", ".join(f"{a['kind']} {a['target']} ({a['status']})" for a in execution["actions"])
    return [
        time.strftime("%H:%M:%S", time.localtime(execution["started_at"])),
        execution["playbook"],
        execution["alert"]["labels"].get("alertname", ""),
        execution["status"],
        actions or "-",
        execution["id"],
    ]


@cli.command()
def executions(
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new executions.")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many recent ones.")] = 20,
    playbook: Annotated[str | None, typer.Option("--playbook", help="Only this playbook's.")] = None,
    alert: Annotated[str | None, typer.Option("--alert", help="Only for alerts of this name.")] = None,
    status: Annotated[str | None, typer.Option("--status", help="Only with this status (failed, …).")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Finished since: an age (2h, 7d) or ISO-8601.")
    ] = None,
    until: Annotated[str | None, typer.Option("--until", help="Finished until: an age or ISO-8601.")] = None,
    offset: Annotated[int, typer.Option("--offset", min=0, help="Skip this many matches (paging).")] = 0,
    interval: Annotated[
        float, typer.Option("--interval", min=0.1, help="Seconds between polls with --follow.")
    ] = 2.0,
    max_polls: Annotated[int, typer.Option("--max-polls", hidden=True)] = 0,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (one object per line with --follow).")
    ] = False,
    url: UrlOpt = "http://localhost:8080",
    token: TokenOpt = None,
) -> None:
    """Executions, filtered and paged; --follow keeps watching."""
    http = client(url, token)
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    filters = {"playbook": playbook, "alertname": alert, "status": status, "since": since, "until": until}
    params.update({k: v for k, v in filters.items() if v})
    seen: set[str] = set()
    polls = 0
    while True:
        recent = api(lambda: http.call("GET", "/api/executions", params=params))
        fresh = [e for e in reversed(recent) if e["id"] not in seen]
        if as_json and not follow:
            print_json(fresh)
        elif as_json:
            for execution in fresh:
                print_json_line(execution)
        elif fresh or not follow:
            rows = [_execution_row(e) for e in fresh]
            print_table(EXECUTION_COLUMNS, rows, show_header=not seen)
        seen.update(e["id"] for e in fresh)
        polls += 1
        if not follow or (max_polls and polls >= max_polls):
            return
        try:
            time.sleep(interval)
        except KeyboardInterrupt:
            return


def _decide(decision: str, execution_id: str, comment: str, url: str, token: str | None) -> None:
    body = {"comment": comment}
    done = api(
        lambda: client(url, token).call("POST", f"/api/executions/{execution_id}/{decision}", json=body)
    )
    say(f"{decision}d {done['playbook']} ({execution_id}): {done['description']}")


@cli.command()
def approvals(
    as_json: JsonOpt = False, url: UrlOpt = "http://localhost:8080", token: TokenOpt = None
) -> None:
    """Executions waiting for an approval."""
    pending = api(lambda: client(url, token).call("GET", "/api/approvals"))
    if as_json:
        print_json(pending)
        return
    if not pending:
        say("nothing is waiting for approval")
        return
    columns = [
        Column("execution", whole=True),
        Column("playbook", whole=True),
        Column("alert", drop_order=2),
        Column("waiting for"),
        Column("deadline in", drop_order=1),
    ]
    rows = [
        [
            item["execution_id"],
            item["playbook"],
            item["alertname"],
            item["description"],
            f"{max(0, item['deadline'] - time.time()):.0f}s",
        ]
        for item in pending
    ]
    print_table(columns, rows)


@cli.command()
def jobs(as_json: JsonOpt = False, url: UrlOpt = "http://localhost:8080", token: TokenOpt = None) -> None:
    """Scheduler jobs, their runs and the leader.

    Shows each job's schedule, last and next run, and the replica that leads.
    """
    found = api(lambda: client(url, token).call("GET", "/api/jobs"))
    if as_json:
        print_json(found)
        return
    say(f"leader:       {found['leader'] or '(none)'}")
    say(f"this replica: {found['this_replica']}")
    columns = [
        Column("job", whole=True),
        Column("schedule"),
        Column("next run", drop_order=2),
        Column("last run"),
        Column("description", drop_order=1),
    ]
    rows = []
    for job in found["jobs"]:
        last = job["last_run"]
        outcome = "-" if not last else ("ok" if last["ok"] else f"failed: {last.get('error') or ''}")
        when = time.strftime("%H:%M:%S", time.localtime(job["next_run"])) if job["next_run"] else "-"
        rows.append([job["id"], job["schedule"], when, outcome, job["description"]])
    print_table(columns, rows)


@cli.command()
def approve(
    execution_id: str,
    comment: Annotated[str, typer.Option("--comment")] = "",
    url: UrlOpt = "http://localhost:8080",
    token: TokenOpt = None,
) -> None:
    """Approve the gate an execution waits at."""
    _decide("approve", execution_id, comment, url, token)


@cli.command()
def reject(
    execution_id: str,
    comment: Annotated[str, typer.Option("--comment")] = "",
    url: UrlOpt = "http://localhost:8080",
    token: TokenOpt = None,
) -> None:
    """Reject the gate an execution waits at."""
    _decide("reject", execution_id, comment, url, token)


def _pause_line(state: dict[str, Any]) -> str:
    if not state["paused"]:
        return "running: playbooks act on alerts"
    parts = [f"paused: {state['reason']}"]
    if state.get("by"):
        parts.append(f"by {state['by']}")
    if state.get("until"):
        parts.append(f"until {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(state['until']))}")
    return ", ".join(parts)


@cli.command()
def pause(
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded and shown in the console).")],
    for_: Annotated[
        str | None, typer.Option("--for", help="Resume by itself after this long (30m, 2h).")
    ] = None,
    as_json: JsonOpt = False,
    url: UrlOpt = "http://localhost:8080",
    token: TokenOpt = None,
) -> None:
    """Pause every new action; releases still run."""
    body: dict[str, Any] = {"reason": reason}
    if for_:
        body["for"] = for_
    state = api(lambda: client(url, token).call("POST", "/api/pause", json=body))
    if as_json:
        print_json(state)
    else:
        say(_pause_line(state))


@cli.command()
def resume(
    as_json: JsonOpt = False,
    url: UrlOpt = "http://localhost:8080",
    token: TokenOpt = None,
) -> None:
    """Resume; alerts still firing are mitigated again."""
    state = api(lambda: client(url, token).call("DELETE", "/api/pause"))
    if as_json:
        print_json(state)
    else:
        say(_pause_line(state))


def main() -> None:
    """Console-script entry point: usage errors are one line and exit 2, like every user error."""
    from typer._click import exceptions as click  # typer ships its own click; these are its errors

    try:
        code = cli(standalone_mode=False)
    except click.NoArgsIsHelpError as exc:
        exc.show()  # bare `autonomic`: the help, as before
        code = exc.exit_code
    except click.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx else "autonomic"
        err.print(f"error: {exc.format_message()} (see {command} --help)")
        code = exc.exit_code
    except click.ClickException as exc:
        err.print(f"error: {exc.format_message()}")
        code = exc.exit_code
    except typer.Abort:  # Ctrl-C
        err.print("aborted")
        code = 1
    sys.exit(code if isinstance(code, int) else 0)
