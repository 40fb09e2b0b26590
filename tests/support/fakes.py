"""Local fakes of Slack, PagerDuty and an application's notification endpoint, at the HTTP level.

Each checks a request as the real API would (auth, required fields), records
it, and can be told to answer the next requests with an error (429 with
Retry-After, 5xx, 4xx) or to hold a request until released.
"""

from __future__ import annotations

import json
import ssl
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from tests.support.procs import free_port


@dataclass
class Reply:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class _QuietServer(ThreadingHTTPServer):
    """A client that went away mid-request (a SIGKILLed replica) is expected here: no traceback."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FakeServer:
    """A threaded HTTP(S) server routing requests to `handle(method, path, headers, body) -> Reply`."""

    def __init__(
        self, handle: Callable[[str, str, dict[str, str], bytes], Reply], tls: ssl.SSLContext | None = None
    ):
        self.requests: list[dict[str, Any]] = []
        self.injected: list[Reply] = []
        self.hold = threading.Event()
        self.hold.set()
        self.held = threading.Event()
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self._serve("GET")

            def do_PUT(self) -> None:
                self._serve("PUT")

            def do_DELETE(self) -> None:
                self._serve("DELETE")

            def do_POST(self) -> None:
                self._serve("POST")

            def _serve(self, method: str) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                if not fake.hold.is_set():
                    fake.held.set()
                    fake.hold.wait(60)
                with fake._lock:
                    reply = fake.injected.pop(0) if fake.injected else None
                injected = reply is not None
                if reply is None:
                    reply = handle(method, self.path, headers, body)
                record = {"method": method, "path": self.path, "headers": headers, "body": body}
                with fake._lock:
                    fake.requests.append({**record, "status": reply.status, "injected": injected})
                data = json.dumps(reply.body).encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.port = free_port()
        self.server = _QuietServer(("127.0.0.1", self.port), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def fail_next(self, count: int, status: int, body: dict[str, Any] | None = None, **headers: str) -> None:
        """Answer the next `count` requests with `status` (e.g. 429 with Retry_After="1")."""
        with self._lock:
            self.injected.extend(
                Reply(
                    status,
                    body or {"error": f"injected {status}"},
                    {k.replace("_", "-"): v for k, v in headers.items()},
                )
                for _ in range(count)
            )

    def ok_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if not r.get("injected") and r["status"] < 300]

    def stop(self) -> None:
        self.hold.set()
        self.server.shutdown()


class SlackFake(FakeServer):
    """Slack Web API `chat.postMessage`, `conversations.history`, `conversations.replies` and
    `conversations.list` (Bearer xoxb token; channel and text or blocks required; a post takes
    `#name` or an ID, reading history takes only an ID, as Slack does; message metadata kept
    and returned only with `include_all_metadata`). Channels in `missing` answer
    channel_not_found."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.messages: list[dict[str, Any]] = []
        self.missing: set[str] = set()
        self.channel_ids: dict[str, str] = {}  # name (without #) -> ID, made on first post
        self._ts = 0.0
        super().__init__(self._handle)

    def _handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        if path.startswith("/hooks/"):  # incoming webhook: the URL is the credential
            payload = json.loads(body)
            if not (payload.get("text") or payload.get("blocks")):
                return Reply(400, {"error": "no_text"})
            self.messages.append(payload)
            return Reply(200, {})
        route, _, query = path.partition("?")
        known = ("chat.postMessage", "conversations.history", "conversations.replies", "conversations.list")
        if route.removeprefix("/api/") not in known:
            return Reply(404, {"ok": False, "error": "unknown_method"})
        if headers.get("authorization") != f"Bearer {self.token}":
            return Reply(200, {"ok": False, "error": "invalid_auth"})
        if headers.get("content-type", "").startswith("application/json"):
            args = json.loads(body)
        else:
            args = {k: v[0] for k, v in parse_qs(body.decode() or query).items()}
            for field_name in ("blocks", "metadata"):
                if isinstance(args.get(field_name), str):
                    args[field_name] = json.loads(args[field_name])
        if route == "/api/conversations.list":
            channels = [{"id": cid, "name": name} for name, cid in sorted(self.channel_ids.items())]
            return Reply(200, {"ok": True, "channels": channels, "response_metadata": {"next_cursor": ""}})
        if not args.get("channel") or args["channel"] in self.missing:
            return Reply(200, {"ok": False, "error": "channel_not_found"})
        if route != "/api/chat.postMessage":
            if args["channel"] not in self.channel_ids.values():  # history wants an ID
                return Reply(200, {"ok": False, "error": "channel_not_found"})
            return Reply(200, self._history(route, args))
        if not (args.get("text") or args.get("blocks")):
            return Reply(200, {"ok": False, "error": "no_text"})
        name = args["channel"].removeprefix("#")
        channel_id = name if name in self.channel_ids.values() else None
        if channel_id is None:
            channel_id = self.channel_ids.setdefault(name, f"C{len(self.channel_ids) + 1:08d}")
        self._ts = max(time.time(), self._ts + 0.001)  # like Slack: the post time, unique per channel
        ts = f"{self._ts:.6f}"
        self.messages.append({**args, "ts": ts, "channel_id": channel_id})
        return Reply(
            200, {"ok": True, "channel": channel_id, "ts": ts, "message": {"text": args.get("text", "")}}
        )

    def _history(self, route: str, args: dict[str, Any]) -> dict[str, Any]:
        oldest = float(args.get("oldest") or 0)
        with_meta = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        thread = args.get("ts") if route.endswith("replies") else None
        found = [
            {
                "ts": m["ts"],
                "text": m.get("text", ""),
                **({"metadata": m["metadata"]} if with_meta and m.get("metadata") else {}),
            }
            for m in reversed(self.messages)
            if m.get("channel_id") == args["channel"]
            and float(m["ts"]) > oldest
            and (thread is None or m.get("thread_ts") == thread or m["ts"] == thread)
        ]
        return {"ok": True, "messages": found[: int(args.get("limit") or 100)], "has_more": False}

    def top_level(self) -> list[dict[str, Any]]:
        return [m for m in self.messages if not m.get("thread_ts")]

    def replies(self) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("thread_ts")]


class PagerDutyFake(FakeServer):
    """PagerDuty Events API v2 `POST /v2/enqueue` over HTTPS (routing key, action, payload checked)."""

    SEVERITIES = {"critical", "error", "warning", "info"}

    def __init__(self, routing_key: str, tls: ssl.SSLContext) -> None:
        self.routing_key = routing_key
        self.events: list[dict[str, Any]] = []
        super().__init__(self._handle, tls)

    def _handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        if path != "/v2/enqueue":
            return Reply(404, {"status": "invalid path"})
        try:
            event = json.loads(body)
        except ValueError:
            return Reply(
                400, {"status": "invalid event", "message": "Event object is invalid", "errors": ["not JSON"]}
            )
        errors = []
        if event.get("routing_key") != self.routing_key:
            errors.append("'routing_key' is invalid")
        if event.get("event_action") not in ("trigger", "acknowledge", "resolve"):
            errors.append("'event_action' is invalid")
        if event.get("event_action") != "trigger" and not event.get("dedup_key"):
            errors.append("'dedup_key' is required")
        if event.get("event_action") == "trigger":
            payload = event.get("payload") or {}
            for required in ("summary", "source", "severity"):
                if not payload.get(required):
                    errors.append(f"'payload.{required}' is missing")
            if payload.get("severity") not in self.SEVERITIES:
                errors.append("'payload.severity' is invalid")
        if errors:
            return Reply(
                400, {"status": "invalid event", "message": "Event object is invalid", "errors": errors}
            )
        self.events.append(event)
        return Reply(
            202,
            {"status": "success", "message": "Event processed", "dedup_key": event.get("dedup_key", "new")},
        )

    def actions(self, action: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["event_action"] == action]

    def incidents(self) -> list[str]:
        """Incidents opened, as PagerDuty counts them: a trigger whose dedup key is already
        open is merged into that incident."""
        opened: list[str] = []
        open_keys: set[str] = set()
        for event in self.events:
            key = event.get("dedup_key", "")
            if event["event_action"] == "trigger" and key not in open_keys:
                open_keys.add(key)
                opened.append(key)
            elif event["event_action"] == "resolve":
                open_keys.discard(key)
        return opened


class NotifyFake(FakeServer):
    """The application's user-notification endpoint: Bearer token and Idempotency-Key required;
    like a receiver that honours the key, a repeat is acknowledged and not delivered again."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.notifications: list[dict[str, Any]] = []
        self.delivered: list[dict[str, Any]] = []
        super().__init__(self._handle)

    def _handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        if headers.get("authorization") != f"Bearer {self.token}":
            return Reply(401, {"error": "unauthorized"})
        key = headers.get("idempotency-key")
        if not key:
            return Reply(400, {"error": "Idempotency-Key required"})
        note = {"key": key, **json.loads(body)}
        self.notifications.append(note)
        if any(d["key"] == key for d in self.delivered):
            return Reply(200, {"accepted": True, "replayed": True})
        self.delivered.append(note)
        return Reply(202, {"accepted": True})


def tls_pair(directory: Path) -> tuple[ssl.SSLContext, Path]:
    """A server TLS context for 127.0.0.1 and the path of the CA bundle that trusts it."""
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    bundle = directory / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    return context, bundle


class ElasticFake(FakeServer):
    """Elasticsearch/OpenSearch: `_cat/indices`, snapshot create (wait_for_completion) and get,
    index delete. `snapshot_state` makes snapshots come out FAILED or PARTIAL."""

    def __init__(self, indices: list[str], repository: str = "autonomic-retention") -> None:
        self.indices = set(indices)
        self.repository = repository
        self.snapshots: dict[str, dict[str, Any]] = {}
        self.snapshot_state = "SUCCESS"
        self.snapshot_http_error: int | None = None
        self.deleted: list[str] = []
        super().__init__(self._handle)

    def _handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        route, _, query = path.partition("?")
        parts = [p for p in route.split("/") if p]
        if method == "GET" and parts[:2] == ["_cat", "indices"]:
            prefix = parts[2].rstrip("*") if len(parts) > 2 else ""
            if "format=json" not in query:
                return Reply(400, {"error": "format=json expected"})
            return Reply(200, [{"index": i} for i in sorted(self.indices) if i.startswith(prefix)])  # type: ignore[arg-type]
        if parts[:1] == ["_snapshot"] and len(parts) == 3:
            if parts[1] != self.repository:
                return Reply(404, {"error": {"type": "repository_missing_exception"}})
            if method == "PUT":
                if self.snapshot_http_error is not None:
                    return Reply(self.snapshot_http_error, {"error": {"type": "snapshot_creation_exception"}})
                if "wait_for_completion=true" not in query:
                    return Reply(400, {"error": "this fake expects wait_for_completion=true"})
                request = json.loads(body)
                wanted = request["indices"].split(",")
                if set(wanted) - self.indices:
                    return Reply(404, {"error": {"type": "index_not_found_exception"}})
                failed = 0 if self.snapshot_state == "SUCCESS" else 1
                snap = {
                    "snapshot": parts[2],
                    "indices": wanted,
                    "state": self.snapshot_state,
                    "shards": {"total": len(wanted), "failed": failed, "successful": len(wanted) - failed},
                }
                self.snapshots[parts[2]] = snap
                return Reply(200, {"snapshot": snap})
            if method == "GET":
                snap = self.snapshots.get(parts[2])
                if snap is None:
                    return Reply(404, {"error": {"type": "snapshot_missing_exception"}})
                return Reply(200, {"snapshots": [snap]})
        if method == "DELETE" and len(parts) == 1:
            if parts[0] not in self.indices:
                return Reply(404, {"error": {"type": "index_not_found_exception"}})
            if not any(parts[0] in s["indices"] and s["state"] == "SUCCESS" for s in self.snapshots.values()):
                return Reply(400, {"error": "test fake: deleting an index that no successful snapshot holds"})
            self.indices.discard(parts[0])
            self.deleted.append(parts[0])
            return Reply(200, {"acknowledged": True})
        return Reply(404, {"error": f"unexpected {method} {path}"})
