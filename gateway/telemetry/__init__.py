"""Telemetry at the four stages: Prometheus metrics, OpenTelemetry traces and
JSON logs. Nothing here is imported by resolvers; each piece attaches to a stage:

    HTTP stage       :class:`~gateway.telemetry.stages.TelemetryMiddleware` (in-flight, access log)
                     + OpenTelemetry's ASGI middleware (server span, ``traceparent`` in)
    operation stage  :class:`~gateway.telemetry.stages.OperationTelemetry` (per-operation
                     metrics, span and log line)
    centre stage     :class:`~gateway.telemetry.connector.InstrumentedConnector` (one span and
                     timing per centre call) + OpenTelemetry's httpx instrumentation
                     (``traceparent`` out)

This package's ``__init__`` imports only the settings models, so that
``onedoor config check`` stays cheap; the composition root imports
:mod:`gateway.telemetry.core`.
"""

from .config import LoggingSettings, TelemetrySettings

__all__ = ["LoggingSettings", "TelemetrySettings"]
