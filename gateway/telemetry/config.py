"""The ``[logging]`` and ``[telemetry]`` sections of the gateway config.

Exporters are deliberately *not* configured here: OpenTelemetry's standard
``OTEL_*`` variables (``OTEL_TRACES_EXPORTER``, ``OTEL_EXPORTER_OTLP_ENDPOINT``,
``OTEL_SERVICE_NAME``…) do that, so the gateway follows the same runbook as
every other service in the data centre.

Example::

    [logging]
    level = "INFO"
    format = "json"

    [telemetry]
    metrics = true
    tracing = true
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["LoggingSettings", "TelemetrySettings"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LoggingSettings(_Strict):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # "console" is for a developer's terminal; log shippers want "json".
    format: Literal["json", "console"] = "json"
    # One line per HTTP request (method, path without query, status, timing).
    access_log: bool = True


class TelemetrySettings(_Strict):
    metrics: bool = True
    metrics_path: str = Field(default="/metrics", pattern=r"^/[A-Za-z0-9/_-]*$")
    # Spans and W3C ``traceparent`` propagation; where spans go is set by OTEL_* env.
    tracing: bool = True
    # Distinct operation names kept as metric labels per process; later ones
    # count as "other" (the name is chosen by clients: cardinality must be bounded).
    max_operation_names: int = Field(default=200, ge=1, le=10_000)
