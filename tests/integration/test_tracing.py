"""OpenTelemetry: one trace per alert from the webhook through each action, via a fake OTLP collector."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.integration.helpers import alert, executions, payload, post
from tests.support.procs import Service, free_port, wait_for


class Collector:
    """Receives OTLP/HTTP protobuf exports and keeps every span."""

    def __init__(self) -> None:
        self.spans: list[dict[str, str]] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = ExportTraceServiceRequest.FromString(body)
                for resource in request.resource_spans:
                    for scope in resource.scope_spans:
                        for span in scope.spans:
                            collector.spans.append(
                                {
                                    "name": span.name,
                                    "trace": span.trace_id.hex(),
                                    "id": span.span_id.hex(),
                                    "parent": span.parent_span_id.hex(),
                                }
                            )
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def collector() -> Iterator[Collector]:
    c = Collector()
    yield c
    c.server.shutdown()


def test_one_trace_per_alert_through_every_action(
    start_service: Callable[..., Service], collector: Collector
) -> None:
    svc = start_service(
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{collector.port}",
        OTEL_BSP_SCHEDULE_DELAY="50",
        OTEL_SERVICE_NAME="autonomic-test",
    )
    post(svc.url, payload(alert("CostSpike"), alert("DailyCostExceeded")))
    runs = wait_for(lambda: (r := executions(svc.url)) and len(r) == 2 and r, what="two executions")

    def spans_of(trace_id: str) -> list[dict[str, str]]:
        return [s for s in collector.spans if s["trace"] == trace_id]

    cost = next(r for r in runs if r["playbook"] == "cost_spike")
    daily = next(r for r in runs if r["playbook"] == "daily_cost_exceeded")
    assert cost["trace_id"] and daily["trace_id"] and cost["trace_id"] != daily["trace_id"]
    spans = wait_for(lambda: (s := spans_of(cost["trace_id"])) and len(s) >= 7 and s, what="spans exported")
    names = sorted(s["name"] for s in spans)
    assert names == sorted(
        ["alert.received", "dispatch", "playbook cost_spike"]
        + ["action flags.set"] * 3
        + ["action slack.post"]
    )
    by_id = {s["id"]: s for s in spans}
    root = next(s for s in spans if s["name"] == "alert.received")
    dispatch = next(s for s in spans if s["name"] == "dispatch")
    playbook = next(s for s in spans if s["name"].startswith("playbook"))
    assert dispatch["parent"] == root["id"]  # context carried through the Redis stream
    assert playbook["parent"] == dispatch["id"]
    assert all(
        by_id[s["parent"]]["name"].startswith("playbook") for s in spans if s["name"].startswith("action")
    )
