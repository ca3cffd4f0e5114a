"""Centre stage telemetry: a decorator around any :class:`Connector` that
times each call, counts it by outcome and error code, opens one span per call
and notes it for the operation's log line — the connector itself stays unaware.

Calls beyond the protocol (``get_residents``, future write methods) are
wrapped the same way through ``__getattr__``, so a new connector method is
measured without touching this module.

Example::

    connectors = instrument_connectors(build_connectors(settings.centres), metrics, tracer)
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from connectors.base import Connector, Health, ListQuery, MatterPage
from connectors.errors import CentreError
from onedoor.model import Centre, MatterRecord

from .metrics import Metrics

__all__ = ["CallNote", "InstrumentedConnector", "OperationNotes", "current_notes",
           "instrument_connectors"]


@dataclass(slots=True)
class CallNote:
    centre: str
    call: str
    ms: float
    outcome: str  # "ok" or the CentreError code


@dataclass(slots=True)
class OperationNotes:
    """What one operation's centre calls did, for its log line; ``span`` parents
    the call spans."""

    calls: list[CallNote] = field(default_factory=list)
    span: Span | None = None


_notes: ContextVar[OperationNotes | None] = ContextVar("onedoor_operation_notes", default=None)


def current_notes() -> ContextVar[OperationNotes | None]:
    return _notes


class InstrumentedConnector:
    """Delegates to ``inner``; every public coroutine method is measured."""

    def __init__(self, inner: Connector, metrics: Metrics | None, tracer: trace.Tracer) -> None:
        self.inner = inner
        self.centre: Centre = inner.centre
        self._metrics = metrics
        self._tracer = tracer

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.inner, name)
        if not name.startswith("_") and inspect.iscoroutinefunction(value):
            return self._wrap(name, value)
        return value

    def _wrap(self, call: str, fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        @functools.wraps(fn)
        async def measured(*args: Any, **kwargs: Any) -> Any:
            return await self._measure(call, fn, *args, **kwargs)

        return measured

    async def _measure(self, call: str, fn: Callable[..., Awaitable[Any]], *args: Any,
                       **kwargs: Any) -> Any:
        centre = self.centre.value
        notes = _notes.get()
        parent = trace.set_span_in_context(notes.span) if notes and notes.span else None
        started = time.perf_counter()
        outcome = "ok"
        with self._tracer.start_as_current_span(
            f"centre {centre} {call}", context=parent, kind=SpanKind.INTERNAL,
            attributes={"onedoor.centre": centre, "onedoor.centre.call": call,
                        "onedoor.centre.keys": _count(args)},
            record_exception=False, set_status_on_exception=False,
        ) as span:
            try:
                return await fn(*args, **kwargs)
            except CentreError as exc:
                outcome = exc.code
                span.set_status(Status(StatusCode.ERROR, exc.code))
                span.set_attribute("onedoor.error.code", exc.code)
                raise
            except Exception as exc:
                outcome = "INTERNAL"
                span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
                raise
            finally:
                elapsed = time.perf_counter() - started
                self._record(call, outcome, elapsed)
                if notes is not None:
                    notes.calls.append(CallNote(centre, call, round(elapsed * 1000, 2), outcome))

    def _record(self, call: str, outcome: str, elapsed: float) -> None:
        m = self._metrics
        if m is None:
            return
        centre = self.centre.value
        m.centre_calls.labels(centre, call, "ok" if outcome == "ok" else "error").inc()
        m.centre_seconds.labels(centre, call).observe(elapsed)
        if outcome != "ok":
            m.centre_errors.labels(centre, outcome).inc()
        breaker = _breaker_of(self.inner)
        if breaker is not None:
            m.set_breaker(centre, getattr(breaker, "state", None))

    # The protocol, spelled out for type checkers; each goes through _measure.
    async def get_many(self, native_ids: Sequence[str]) -> Mapping[str, MatterRecord]:
        result: Mapping[str, MatterRecord] = await self._measure(
            "get_many", self.inner.get_many, native_ids)
        return result

    async def find_by_citizens(self, id_numbers: Sequence[str]) -> Mapping[str, Sequence[MatterRecord]]:
        result: Mapping[str, Sequence[MatterRecord]] = await self._measure(
            "find_by_citizens", self.inner.find_by_citizens, id_numbers)
        return result

    async def list_matters(self, query: ListQuery) -> MatterPage:
        result: MatterPage = await self._measure("list_matters", self.inner.list_matters, query)
        return result

    async def health(self) -> Health:
        return await self.inner.health()

    async def aclose(self) -> None:
        await self.inner.aclose()


def _breaker_of(connector: Any) -> Any:
    """``http.breaker`` behind any stack of wrappers that expose ``inner`` (as
    ``connectors.breaker`` finds it), read duck-typed so this module needs no breaker."""
    for _ in range(8):
        if connector is None:
            return None
        breaker = getattr(getattr(connector, "http", None), "breaker", None)
        if breaker is not None:
            return breaker
        connector = getattr(connector, "inner", None)
    return None


def _count(args: tuple[Any, ...]) -> int:
    """How many keys a batched call carried (never the keys: they are resident IDs)."""
    first = args[0] if args else None
    return len(first) if isinstance(first, Sequence) and not isinstance(first, str) else 1


def instrument_connectors(connectors: Mapping[Centre, Connector], metrics: Metrics | None,
                          tracer: trace.Tracer) -> dict[Centre, Connector]:
    return {c: InstrumentedConnector(conn, metrics, tracer) for c, conn in connectors.items()}
