"""Tracing at the centre stage, over an ``httpx.MockTransport``: one span per
connector call, the W3C ``traceparent`` reaching the centre, URLs without
their query string."""

from __future__ import annotations

import httpx
import pytest
from opentelemetry import propagate, trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from connectors.base import ListQuery
from connectors.errors import CentreUnavailable
from connectors.mediation import MediationConnector
from connectors.settings import MediationSettings
from gateway.telemetry.config import TelemetrySettings
from gateway.telemetry.core import Telemetry
from gateway.telemetry.tracing import tracer_provider_from_env
from onedoor.model import Centre
from tests.connectors.conftest import FAST, payload

RESIDENT = "632301198001011237"


def _provider() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


async def test_centre_sees_traceparent_of_the_call_span() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=payload("mediation_search.json"))

    provider, exporter = _provider()
    telemetry = Telemetry(TelemetrySettings(), provider)
    inner = MediationConnector(MediationSettings(base_url="http://mediation.test"), FAST,
                               transport=httpx.MockTransport(handler))
    connector = telemetry.connectors({Centre.MEDIATION: inner})[Centre.MEDIATION]
    try:
        await connector.find_by_citizens([RESIDENT])
    finally:
        await connector.aclose()
    spans = {s.name: s for s in exporter.get_finished_spans()}
    call = spans["centre MEDIATION find_by_citizens"]
    client = next(s for s in spans.values() if s.kind is trace.SpanKind.CLIENT)
    assert client.parent is not None and client.parent.span_id == call.context.span_id
    header = seen[0].headers["traceparent"]
    version, trace_id, span_id, _flags = header.split("-")
    assert version == "00"
    assert int(trace_id, 16) == call.context.trace_id
    assert int(span_id, 16) == client.context.span_id
    assert RESIDENT in str(seen[0].url)  # the centre needs it…
    for span in spans.values():  # …the trace must not carry it
        assert all(RESIDENT not in str(v) for v in (span.attributes or {}).values())
    text = telemetry.metrics.exposition().decode() if telemetry.metrics else ""
    assert 'onedoor_centre_calls_total{call="find_by_citizens",centre="MEDIATION",outcome="ok"} 1.0' in text


async def test_a_failed_call_is_an_error_span_and_counted_by_code() -> None:
    provider, exporter = _provider()
    telemetry = Telemetry(TelemetrySettings(), provider)
    inner = MediationConnector(MediationSettings(base_url="http://mediation.test"), FAST,
                               transport=httpx.MockTransport(lambda _: httpx.Response(503)))
    connector = telemetry.connectors({Centre.MEDIATION: inner})[Centre.MEDIATION]
    try:
        with pytest.raises(CentreUnavailable):
            await connector.list_matters(ListQuery(limit=5))
    finally:
        await connector.aclose()
    call = next(s for s in exporter.get_finished_spans() if s.name.startswith("centre "))
    assert call.status.status_code is trace.StatusCode.ERROR
    assert telemetry.metrics is not None
    text = telemetry.metrics.exposition().decode()
    assert 'onedoor_centre_errors_total{centre="MEDIATION",code="CENTRE_UNAVAILABLE"} 1.0' in text


def test_exporter_defaults_to_none_and_honours_otel_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_TRACES_EXPORTER", raising=False)
    monkeypatch.delenv("OTEL_SDK_DISABLED", raising=False)
    monkeypatch.delenv("OTEL_TRACES_SAMPLER", raising=False)
    provider = tracer_provider_from_env()
    assert isinstance(provider, TracerProvider)
    assert provider._active_span_processor._span_processors == ()
    # Nothing receives spans: our own roots are not recorded, a caller's sampled
    # trace is followed, and the trace id propagates either way.
    tracer = provider.get_tracer("t")
    with tracer.start_as_current_span("root") as root:
        assert not root.is_recording()
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        assert carrier["traceparent"].split("-")[1] == f"{root.get_span_context().trace_id:032x}"
    parent = propagate.extract(
        {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"})
    with tracer.start_as_current_span("child", context=parent) as child:
        assert child.is_recording()
    provider.shutdown()
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert isinstance(tracer_provider_from_env(), trace.NoOpTracerProvider)
    monkeypatch.delenv("OTEL_SDK_DISABLED")
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "no-such-exporter")
    with pytest.raises(RuntimeError, match="no-such-exporter"):
        tracer_provider_from_env()


def test_operation_labels_are_bounded() -> None:
    from gateway.telemetry.metrics import Metrics

    metrics = Metrics(max_operation_names=2)
    assert metrics.operation_label(None) == "anonymous"
    assert metrics.operation_label("bad name!") == "invalid"
    assert [metrics.operation_label(n) for n in ("A", "B", "C", "A")] == ["A", "B", "other", "A"]


async def test_breaker_state_is_read_through_wrappers() -> None:
    from types import SimpleNamespace

    from gateway.telemetry.connector import InstrumentedConnector

    class Fake:
        centre = Centre.PETITIONS
        http = SimpleNamespace(breaker=SimpleNamespace(state=SimpleNamespace(value="open")))

        async def list_matters(self, query: ListQuery) -> object:
            return object()

    telemetry = Telemetry(TelemetrySettings(), trace.NoOpTracerProvider())
    wrapped = InstrumentedConnector(SimpleNamespace(centre=Centre.PETITIONS, inner=Fake(),  # type: ignore[arg-type]
                                                    list_matters=Fake().list_matters),
                                    telemetry.metrics, telemetry.tracer)
    await wrapped.list_matters(ListQuery(limit=1))
    assert telemetry.metrics is not None
    assert 'onedoor_centre_breaker_state{centre="PETITIONS"} 2.0' in telemetry.metrics.exposition().decode()
