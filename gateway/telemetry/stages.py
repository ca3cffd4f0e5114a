"""HTTP- and operation-stage telemetry, and the audit store's meter.

:class:`TelemetryMiddleware` (pure ASGI, after the request id) counts requests
in flight and writes the access line; :class:`OperationTelemetry` (a
strawberry schema extension, outermost) records each GraphQL operation's
metrics, one span and one log line with its centre calls. Paths are logged
without their query string: a GET query carries its variables there.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import AsyncIterator

import structlog
from graphql import GraphQLError
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from policy.principal import Principal
from services.audit import AuditEntry, AuditRecord, AuditStore, VerifyResult

from .connector import OperationNotes, current_notes
from .logs import log_fields, principal_label
from .metrics import Metrics

__all__ = ["MeteredAuditStore", "OperationTelemetry", "TelemetryMiddleware"]

_access = structlog.get_logger("onedoor.access")
_operations = structlog.get_logger("onedoor.operation")
# Refused by the HTTP view with a 400 (no query, unknown operation, mutation over GET).
_TRANSPORT_REFUSALS = (MissingQueryError, CannotGetOperationTypeError, InvalidOperationTypeError)


class TelemetryMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics | None, *, access_log: bool = True,
                 skip_paths: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.metrics = metrics
        self.access_log = access_log
        self.skip_paths = skip_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.skip_paths:
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=state.get("request_id", "-"))
        status = 500
        started = time.perf_counter()

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        gauge = self.metrics.in_flight if self.metrics is not None else None
        if gauge is not None:
            gauge.inc()
        try:
            await self.app(scope, receive, recording_send)
        finally:
            if gauge is not None:
                gauge.dec()
            if self.access_log:
                principal = state.get("principal")
                _access.info("http.request", **log_fields(
                    method=scope.get("method"), path=scope["path"], status=status,
                    ms=round((time.perf_counter() - started) * 1000, 2),
                    principal=principal_label(principal if isinstance(principal, Principal) else None),
                ))
            structlog.contextvars.clear_contextvars()


class OperationTelemetry(SchemaExtension):
    """Metrics, a span and one log line per operation. Listed first, so it sees
    the final result (after error hygiene and the audit stage)."""

    def __init__(self, metrics: Metrics | None, tracer: trace.Tracer) -> None:
        self.metrics = metrics
        self.tracer = tracer

    async def on_operation(self) -> AsyncIterator[None]:
        notes = OperationNotes()
        notes.span = self.tracer.start_span("graphql.operation")
        token = current_notes().set(notes)
        started = time.perf_counter()
        escaped: Exception | None = None
        try:
            yield
        except Exception as exc:  # recorded, never swallowed
            escaped = exc
            raise
        finally:
            current_notes().reset(token)
            try:
                self._finish(notes, time.perf_counter() - started, escaped)
            except Exception:  # telemetry never changes an answer
                _operations.exception("graphql.operation.telemetry_failed")

    def _finish(self, notes: OperationNotes, elapsed: float,
                escaped: Exception | None = None) -> None:
        execution = self.execution_context
        # Client-chosen, of any JSON type until the HTTP stage refuses a non-string.
        given = execution.operation_name
        name = given if isinstance(given, str) else ("invalid" if given is not None else None)
        result = execution.result
        errors = list(getattr(result, "errors", None) or [])
        if escaped is not None:  # the operation ended by an exception: that is its answer
            errors.append(_as_error(escaped))
        codes = sorted({str((e.extensions or {}).get("code", "INTERNAL_SERVER_ERROR"))
                        for e in errors})
        data = getattr(result, "data", None)
        has_data = isinstance(data, dict) and any(v is not None for v in data.values())
        outcome = "ok" if not codes else ("partial" if has_data else "error")
        if self.metrics is not None:
            self.metrics.sync_caches()
            label = self.metrics.operation_label(name)
            self.metrics.operations.labels(label, outcome).inc()
            self.metrics.operation_seconds.labels(label).observe(elapsed)
            for error in errors:
                self.metrics.errors.labels(
                    str((error.extensions or {}).get("code", "INTERNAL_SERVER_ERROR"))).inc()
        span = notes.span
        if span is not None:
            span.update_name(f"graphql.operation {name or 'anonymous'}")
            span.set_attribute("graphql.operation.name", name or "")
            span.set_attribute("onedoor.outcome", outcome)
            if codes:
                span.set_status(Status(StatusCode.ERROR, ",".join(codes)))
            span.end()
        ctx = execution.context
        _operations.info("graphql.operation", **log_fields(
            request_id=getattr(ctx, "request_id", None), operation=name or "anonymous",
            principal=principal_label(getattr(ctx, "principal", None)), outcome=outcome,
            errors=codes or None, ms=round(elapsed * 1000, 2),
            centres=[{"centre": c.centre, "call": c.call, "ms": c.ms, "outcome": c.outcome}
                     for c in notes.calls] or None,
        ))


def _as_error(exc: Exception) -> GraphQLError:
    if isinstance(exc, GraphQLError):  # error hygiene has masked anything unexpected
        return exc
    code = "BAD_REQUEST" if isinstance(exc, _TRANSPORT_REFUSALS) else "INTERNAL_SERVER_ERROR"
    return GraphQLError("", extensions={"code": code})


class MeteredAuditStore:
    """Counts appends by outcome; everything else goes straight to ``inner``."""

    def __init__(self, inner: AuditStore, metrics: Metrics) -> None:
        self.inner = inner
        self.metrics = metrics

    async def append(self, entry: AuditEntry) -> AuditRecord:
        try:
            record = await self.inner.append(entry)
        except Exception:
            self.metrics.audit_appends.labels("failed").inc()
            raise
        self.metrics.audit_appends.labels("ok").inc()
        return record

    async def query(self, citizen_id: str | None = None, since: dt.datetime | None = None,
                    until: dt.datetime | None = None, first: int = 50, after: str | None = None,
                    ) -> tuple[list[AuditRecord], str | None]:
        return await self.inner.query(citizen_id, since, until, first, after)

    async def verify(self) -> VerifyResult:
        return await self.inner.verify()

    async def purge_older_than(self, cutoff: dt.datetime) -> int:
        return await self.inner.purge_older_than(cutoff)

    async def writable(self) -> bool:
        return await self.inner.writable()

    async def aclose(self) -> None:
        await self.inner.aclose()
