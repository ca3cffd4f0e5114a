"""OpenTelemetry tracing: a tracer provider configured by the standard
``OTEL_*`` variables, and the httpx instrumentation on every centre client.

Unlike OpenTelemetry's auto-instrumentation, the default exporter is *none*:
spans still exist (so ``traceparent`` reaches the centres and log lines carry
trace ids) but nothing is sent anywhere until an operator sets
``OTEL_TRACES_EXPORTER``. ``otlp`` speaks the protocol named by
``OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`` or ``OTEL_EXPORTER_OTLP_PROTOCOL``:
``http/protobuf`` (the default, as OpenTelemetry's specification has it, and
the collector port 4318 of the documented recipe; its exporter is a dependency)
or ``grpc`` (port 4317; needs ``opentelemetry-exporter-otlp-proto-grpc``).
``console`` ships with the SDK. ``OTEL_SDK_DISABLED=true`` turns spans off.

Example (an OpenTelemetry collector on the same host)::

    OTEL_TRACES_EXPORTER=otlp OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 onedoor serve

URLs on spans lose their query string: the centres' search URLs carry resident
IDs, which must not leave the gateway in a trace.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from importlib.metadata import entry_points
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from opentelemetry import trace
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased

__all__ = ["instrument_clients", "scrub_server_span", "tracer_provider_from_env"]

_URL_ATTRIBUTES = ("url.full", "http.url")
_QUERY_ATTRIBUTES = ("url.query",)
_TARGET_ATTRIBUTES = ("http.target",)


# OTEL_EXPORTER_OTLP_*PROTOCOL → the exporter's entry-point name. The
# ``otlp`` entry point itself belongs to whichever package registered it last
# (the gRPC one, when installed): it must not decide the protocol.
_OTLP_PROTOCOLS = {"http/protobuf": "otlp_proto_http", "grpc": "otlp_proto_grpc"}


def _otlp_exporter_name() -> str:
    protocol = (os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
                or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL") or "http/protobuf").strip().lower()
    if protocol not in _OTLP_PROTOCOLS:
        raise RuntimeError(f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol}: not supported "
                           f"(use {' or '.join(_OTLP_PROTOCOLS)})")
    return _OTLP_PROTOCOLS[protocol]


def _exporters(names: Iterable[str]) -> list[SpanExporter]:
    found = {e.name: e for e in entry_points(group="opentelemetry_traces_exporter")}
    out: list[SpanExporter] = []
    for name in names:
        if name == "none":
            continue
        entry = _otlp_exporter_name() if name == "otlp" else name
        if entry not in found:
            raise RuntimeError(f"OTEL_TRACES_EXPORTER={name}: no {entry} exporter installed "
                               f"(have: {', '.join(sorted(found)) or 'none'})")
        out.append(found[entry].load()())
    return out


def tracer_provider_from_env(service_name: str = "onedoor") -> trace.TracerProvider:
    """A provider per ``OTEL_*``; a no-op one when ``OTEL_SDK_DISABLED=true``."""
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return trace.NoOpTracerProvider()
    os.environ.setdefault("OTEL_SERVICE_NAME", service_name)
    names = os.environ.get("OTEL_TRACES_EXPORTER", "none").split(",")
    exporters = _exporters(n.strip() for n in names if n.strip())
    # With nowhere to send spans, recording them only costs CPU (~2 ms per
    # dashboard request, measured): our own root spans are not sampled, while a
    # caller's sampled trace is still followed and every trace id still reaches
    # the centres in ``traceparent``. OTEL_TRACES_SAMPLER overrides this.
    quiet = not exporters and "OTEL_TRACES_SAMPLER" not in os.environ
    provider = TracerProvider(resource=Resource.create(),
                              sampler=ParentBased(ALWAYS_OFF) if quiet else None)
    for exporter in exporters:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def _without_query(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(query="", fragment=""))


def _scrub(span: Any) -> None:
    if not span.is_recording():
        return
    # One snapshot: each lookup on the live BoundedAttributes takes its lock.
    attributes = dict(getattr(span, "attributes", None) or {})
    for key in _URL_ATTRIBUTES:
        if key in attributes:
            span.set_attribute(key, _without_query(str(attributes[key])))
    for key in _QUERY_ATTRIBUTES:
        if key in attributes:
            span.set_attribute(key, "")
    for key in _TARGET_ATTRIBUTES:
        if key in attributes:
            span.set_attribute(key, str(attributes[key]).split("?", 1)[0])


def scrub_server_span(span: Any, scope: Any) -> None:
    """ASGI ``server_request_hook``: GET queries carry variables in the URL."""
    _scrub(span)


async def _scrub_client_span(span: Any, request: Any) -> None:
    _scrub(span)


def instrument_clients(connectors: Iterable[Any], provider: trace.TracerProvider) -> None:
    """Instrument each connector's pooled client: one client span per HTTP
    attempt, with the W3C ``traceparent`` header injected."""
    for connector in connectors:
        client = getattr(getattr(connector, "http", None), "client", None)
        if isinstance(client, httpx.AsyncClient):
            HTTPXClientInstrumentor.instrument_client(
                client, tracer_provider=provider, request_hook=_scrub_client_span)
