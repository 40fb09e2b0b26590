"""Optional OpenTelemetry traces: one trace per alert, from the webhook through each action.

Enabled by the standard `OTEL_*` environment (an OTLP endpoint, or
`OTEL_TRACES_EXPORTER=otlp|console`); otherwise every helper here is a no-op
so the intake pays nothing. The trace context rides in the stream entry as a
W3C `traceparent`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.propagate import extract, inject
from opentelemetry.trace import Span

_state = {"enabled": False}
tracer = trace.get_tracer("autonomic")


def wanted() -> bool:
    """True when the environment asks for traces."""
    if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    exporter = os.environ.get("OTEL_TRACES_EXPORTER", "").lower()
    if exporter == "none":
        return False
    return bool(
        exporter in ("otlp", "console")
        or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def setup(service_name: str = "autonomic") -> bool:
    """Install an SDK tracer provider with the configured exporter; return whether tracing is on."""
    if _state["enabled"]:
        return True
    if not wanted():
        return False
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        ConsoleSpanExporter,
        SpanExporter,
    )

    exporter: SpanExporter
    if os.environ.get("OTEL_TRACES_EXPORTER", "").lower() == "console":
        exporter = ConsoleSpanExporter()
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()
    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", service_name)})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    enable()
    return True


def enable() -> None:
    """Turn tracing on with whatever tracer provider is installed (tests install their own)."""
    _state["enabled"] = True


def alert_traceparent(alert_name: str, fingerprint: str) -> str:
    """Start (and end) the root span of one alert's trace; return its `traceparent`."""
    if not _state["enabled"]:
        return ""
    with tracer.start_as_current_span(
        "alert.received",
        context=otel_context.Context(),  # a new trace per alert, not the HTTP request's
        links=[trace.Link(trace.get_current_span().get_span_context())],
        attributes={"alert.name": alert_name, "alert.fingerprint": fingerprint},
    ):
        carrier: dict[str, str] = {}
        inject(carrier)
        return carrier.get("traceparent", "")


_OFF: AbstractContextManager[None] = nullcontext()


def span(name: str, traceparent: str | None = None, **attributes: Any) -> AbstractContextManager[Span | None]:
    """A child span of the current one (or of `traceparent`); a shared no-op when tracing is off."""
    if not _state["enabled"]:
        return _OFF
    return _span(name, traceparent, attributes)


@contextmanager
def _span(name: str, traceparent: str | None, attributes: dict[str, Any]) -> Iterator[Span | None]:
    parent = extract({"traceparent": traceparent}) if traceparent else None
    clean = {k: v for k, v in attributes.items() if v is not None}
    with tracer.start_as_current_span(name, context=parent, attributes=clean) as current:
        yield current


def current_trace_id() -> str | None:
    """The current trace id as hex, or None."""
    if not _state["enabled"]:
        return None
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None
