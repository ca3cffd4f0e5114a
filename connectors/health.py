"""What the gateway knows about each centre right now, without calling it:
breaker state and the last call's latency and error code (from CallStats).
Read by ``/readyz``, ``Query.centres`` and metrics."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from onedoor.model import Centre

from .breaker import BreakerState, breaker_states
from .http import CallStats

__all__ = ["CentreStatus", "centre_statuses"]


@dataclass(frozen=True, slots=True)
class CentreStatus:
    centre: Centre
    breaker: BreakerState | None
    requests: int
    failures: int
    last_latency_ms: float | None
    last_error_code: str | None
    last_call_failed: bool

    @property
    def status(self) -> str:
        """UP, DEGRADED (the last call failed, breaker still closed) or DOWN (breaker open)."""
        if self.breaker in (BreakerState.OPEN, BreakerState.HALF_OPEN):
            return "DOWN"
        return "DEGRADED" if self.last_call_failed else "UP"


def _stats(connector: Any) -> CallStats | None:
    for _ in range(8):  # through wrappers (cache, telemetry) to the HTTP client
        stats = getattr(getattr(connector, "http", None), "stats", None)
        if isinstance(stats, CallStats):
            return stats
        connector = getattr(connector, "inner", None)
        if connector is None:
            break
    return None


def centre_statuses(connectors: Mapping[Centre, object]) -> list[CentreStatus]:
    breakers = breaker_states(connectors)
    out = []
    for centre in Centre:
        if centre not in connectors:
            continue
        stats = _stats(connectors[centre]) or CallStats()
        out.append(CentreStatus(
            centre=centre, breaker=breakers.get(centre), requests=stats.requests,
            failures=stats.failures, last_latency_ms=stats.last_latency_ms,
            last_error_code=stats.last_error_code, last_call_failed=stats.last_call_failed,
        ))
    return out
