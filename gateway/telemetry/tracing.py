"""OpenTelemetry tracing: a tracer provider configured by the standard
``OTEL_*`` variables, and the httpx instrumentation on every centre client.

Unlike OpenTelemetry's auto-instrumentation, the default exporter is *none*:
spans still exist (so ``traceparent`` reaches the centres and log lines carry
trace ids) but nothing is sent anywhere until an operator sets
``OTEL_TRACES_EXPORTER`` (``otlp`` needs ``opentelemetry-exporter-otlp``;
``console`` ships with the SDK). ``OTEL_SDK_DISABLED=true`` turns spans off.

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


def _exporters(names: Iterable[str]) -> list[SpanExporter]:
    found = {e.name: e for e in entry_points(group="opentelemetry_traces_exporter")}
    out: list[SpanExporter] = []
    for name in names:
        if name == "none":
            continue
        if name not in found:
            raise RuntimeError(f"OTEL_TRACES_EXPORTER={name}: no such exporter installed "
                               f"(have: {', '.join(sorted(found)) or 'none'})")
        out.append(found[name].load()())
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
