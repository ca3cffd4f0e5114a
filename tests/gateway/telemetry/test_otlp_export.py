"""The documented tracing recipe end to end: ``OTEL_TRACES_EXPORTER=otlp`` and
an HTTP collector endpoint (port 4318 in docs/onedoor.production.toml) — a tiny
OTLP/HTTP receiver on a loopback port must get the spans of a GraphQL request."""

from __future__ import annotations

import contextlib
import http.server
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import TracerProvider

from gateway.app import create_app
from gateway.telemetry.core import Telemetry
from gateway.telemetry.tracing import tracer_provider_from_env
from services.audit import open_audit_store
from tests.gateway.harness import settings


@dataclass
class Received:
    path: str
    content_type: str
    body: bytes


@dataclass
class Collector:
    endpoint: str
    posts: list[Received] = field(default_factory=list)


@contextlib.contextmanager
def _collector() -> Iterator[Collector]:
    """An OTLP/HTTP receiver: answers every POST with an empty 200 (a full success)."""
    collector = Collector("")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            collector.posts.append(Received(self.path, self.headers.get("Content-Type", ""), body))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    collector.endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield collector
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


async def test_otlp_recipe_exports_spans_over_http(monkeypatch: pytest.MonkeyPatch) -> None:
    with _collector() as collector:
        # Exactly the recipe's variables: no protocol named, the HTTP port.
        monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp")
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint)
        monkeypatch.setenv("OTEL_SERVICE_NAME", "onedoor-test")
        for name in ("OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
                     "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SDK_DISABLED", "OTEL_TRACES_SAMPLER"):
            monkeypatch.delenv(name, raising=False)
        provider = tracer_provider_from_env()
        assert isinstance(provider, TracerProvider)
        gateway = settings()

        async def deny(_: str) -> Any:
            raise AssertionError

        with tempfile.TemporaryDirectory() as tmp:
            audit = await open_audit_store(f"sqlite:///{Path(tmp) / 'audit.sqlite'}")
            app = create_app(gateway, {}, deny, audit=audit, close_connectors=False,
                             telemetry=Telemetry(gateway.telemetry, provider))
            try:
                async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                             base_url="http://gateway") as client:
                    response = await client.post("/graphql", json={"query": "query Probe { __typename }"})
                    assert response.status_code == 200, response.text
            finally:
                await audit.aclose()
        assert provider.force_flush(10_000)
        provider.shutdown()

    assert collector.posts, "the collector received nothing"
    post = collector.posts[0]
    assert post.path == "/v1/traces"
    assert post.content_type == "application/x-protobuf"
    batch = ExportTraceServiceRequest()
    batch.ParseFromString(post.body)
    services = {a.value.string_value for r in batch.resource_spans for a in r.resource.attributes
                if a.key == "service.name"}
    assert services == {"onedoor-test"}
    names = {s.name for r in batch.resource_spans for ss in r.scope_spans for s in ss.spans}
    assert any("Probe" in n for n in names), names


@pytest.mark.parametrize(("variable", "protocol", "message"), [
    ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", "not supported"),
    ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "carrier-pigeon", "not supported"),
])
def test_unknown_otlp_protocol_fails_at_start(monkeypatch: pytest.MonkeyPatch, variable: str,
                                              protocol: str, message: str) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "onedoor-test")
    monkeypatch.setenv(variable, protocol)
    with pytest.raises(RuntimeError, match=message):
        tracer_provider_from_env()


def test_traces_protocol_overrides_the_general_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "onedoor-test")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf")
    provider = tracer_provider_from_env()
    assert isinstance(provider, TracerProvider)
    provider.shutdown()
