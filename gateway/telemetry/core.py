"""One object that carries the app's telemetry, built once per app by the
composition root (:mod:`gateway.app`) from the ``[telemetry]`` settings.

Example (tests inject an in-memory span exporter this way)::

    provider = TracerProvider(); provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = create_app(settings, connectors, authenticate, telemetry=Telemetry(settings.telemetry,
                                                                              provider))
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from opentelemetry import trace
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from strawberry.extensions import SchemaExtension

from connectors.base import Connector
from connectors.cache import RecordCache
from onedoor.model import Centre
from services.audit import AuditStore

from .config import LoggingSettings, TelemetrySettings
from .connector import instrument_connectors
from .metrics import Metrics
from .stages import MeteredAuditStore, OperationTelemetry, TelemetryMiddleware
from .tracing import instrument_clients, scrub_server_span, tracer_provider_from_env

__all__ = ["Telemetry"]


@functools.cache
def _process_provider(service_name: str) -> trace.TracerProvider:
    """One provider per process (its batch exporter thread is per process too)."""
    return tracer_provider_from_env(service_name)


class Telemetry:
    def __init__(self, settings: TelemetrySettings | None = None,
                 tracer_provider: trace.TracerProvider | None = None,
                 logging: LoggingSettings | None = None) -> None:
        self.settings = settings or TelemetrySettings()
        self.logging = logging or LoggingSettings()
        self.metrics = Metrics(max_operation_names=self.settings.max_operation_names) \
            if self.settings.metrics else None
        if tracer_provider is None:
            tracer_provider = (_process_provider("onedoor") if self.settings.tracing
                               else trace.NoOpTracerProvider())
        self.provider = tracer_provider
        self.tracer = tracer_provider.get_tracer("onedoor.gateway")

    def connectors(self, connectors: Mapping[Centre, Connector]) -> dict[Centre, Connector]:
        """Trace the centres' HTTP clients and wrap each connector with its meter."""
        if self.settings.tracing:
            instrument_clients(connectors.values(), self.provider)
        if self.metrics is not None:
            for connector in connectors.values():
                if isinstance(cache := getattr(connector, "cache", None), RecordCache):
                    self.metrics.watch_cache(cache.stats)
        return instrument_connectors(connectors, self.metrics, self.tracer)

    def audit(self, store: AuditStore) -> AuditStore:
        if self.metrics is None or isinstance(store, MeteredAuditStore):
            return store
        return MeteredAuditStore(store, self.metrics)

    def extension(self) -> SchemaExtension:
        return OperationTelemetry(self.metrics, self.tracer)

    def outer_middleware(self) -> list[Middleware]:
        """Outermost: the server span must cover every other stage."""
        if not self.settings.tracing:
            return []
        return [Middleware(OpenTelemetryMiddleware, tracer_provider=self.provider,
                           excluded_urls=f"{self.settings.metrics_path},/healthz,/readyz",
                           server_request_hook=scrub_server_span, exclude_spans=["receive", "send"])]

    def middleware(self) -> list[Middleware]:
        """After the request id: in-flight gauge and access log."""
        return [Middleware(TelemetryMiddleware, metrics=self.metrics,
                           access_log=self.logging.access_log,
                           skip_paths=frozenset({self.settings.metrics_path, "/healthz", "/readyz"}))]

    async def endpoint(self, request: Request) -> Response:
        if self.metrics is None:
            return Response(status_code=404)
        body, content_type = self.metrics.negotiate(request.headers.get("accept"))
        return Response(body, headers={"Content-Type": content_type, "Vary": "Accept"})

    def __repr__(self) -> str:
        return f"Telemetry(metrics={self.metrics is not None}, tracing={self.settings.tracing})"


