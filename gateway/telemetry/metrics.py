"""The gateway's Prometheus metrics, one registry per app.

A per-app :class:`CollectorRegistry` keeps tests that build many apps from
colliding. With ``--workers N`` > 1 every worker is a separate process:
``onedoor serve`` then points ``PROMETHEUS_MULTIPROC_DIR`` at an empty
directory *before* prometheus-client is imported, the instruments write to
memory-mapped files there, and ``/metrics`` aggregates all workers with
:class:`MultiProcessCollector` (gauges say how: ``livesum``, ``livemax``).

Metric names (see docs/operations.md)::

    onedoor_http_requests_in_flight                          gauge
    onedoor_graphql_operations_total{operation,outcome}      counter
    onedoor_graphql_operation_duration_seconds{operation}    histogram
    onedoor_graphql_errors_total{code}                       counter
    onedoor_centre_calls_total{centre,call,outcome}          counter
    onedoor_centre_call_duration_seconds{centre,call}        histogram
    onedoor_centre_errors_total{centre,code}                 counter
    onedoor_centre_breaker_state{centre}                     gauge 0 closed, 1 half-open, 2 open
    onedoor_cache_requests_total{result}                     counter (hit | miss | joined)
    onedoor_audit_appends_total{outcome}                     counter (ok | failed)
"""

from __future__ import annotations

import os
import re
import threading

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector

from connectors.cache import CacheStats

__all__ = ["Metrics", "multiprocess_dir"]

# A ``*_created`` timestamp beside every counter and histogram doubles the series
# and no dashboard of ours reads it; the switch is process-wide in prometheus-client.
disable_created_metrics()  # type: ignore[no-untyped-call]

_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]{0,63}$")
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BREAKER_STATES = {"closed": 0, "half_open": 1, "half-open": 1, "open": 2}


def multiprocess_dir() -> str | None:
    """The shared directory when several worker processes serve one port."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class Metrics:
    """Instruments plus the exposition for ``/metrics``."""

    def __init__(self, *, max_operation_names: int = 200) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.in_flight = Gauge("onedoor_http_requests_in_flight", "HTTP requests being served",
                               registry=r, multiprocess_mode="livesum")
        self.operations = Counter("onedoor_graphql_operations_total", "GraphQL operations",
                                  ["operation", "outcome"], registry=r)
        self.operation_seconds = Histogram(
            "onedoor_graphql_operation_duration_seconds", "GraphQL operation latency",
            ["operation"], registry=r, buckets=_LATENCY_BUCKETS)
        self.errors = Counter("onedoor_graphql_errors_total", "GraphQL errors by extensions.code",
                              ["code"], registry=r)
        self.centre_calls = Counter("onedoor_centre_calls_total", "Connector calls per centre",
                                    ["centre", "call", "outcome"], registry=r)
        self.centre_seconds = Histogram(
            "onedoor_centre_call_duration_seconds", "Connector call latency (retries included)",
            ["centre", "call"], registry=r, buckets=_LATENCY_BUCKETS)
        self.centre_errors = Counter("onedoor_centre_errors_total", "Connector failures by code",
                                     ["centre", "code"], registry=r)
        self.breaker = Gauge("onedoor_centre_breaker_state",
                             "Circuit breaker: 0 closed, 1 half-open, 2 open", ["centre"],
                             registry=r, multiprocess_mode="livemax")
        self.cache = Counter("onedoor_cache_requests_total", "Centre cache lookups", ["result"],
                             registry=r)
        self.audit_appends = Counter("onedoor_audit_appends_total", "Audit record appends",
                                     ["outcome"], registry=r)
        # Record caches whose lookups feed ``cache`` (connectors know nothing of
        # Prometheus): counted in plain ints there, carried over after every
        # operation by :meth:`sync_caches` — a few subtractions.
        self._caches: list[tuple[CacheStats, dict[str, int]]] = []
        self._names: set[str] = set()
        self._max_names = max_operation_names
        self._lock = threading.Lock()

    def watch_cache(self, stats: CacheStats) -> None:
        if all(stats is not known for known, _ in self._caches):
            self._caches.append((stats, {"hit": 0, "miss": 0, "joined": 0}))

    def sync_caches(self) -> None:
        for stats, seen in self._caches:
            for result, now in (("hit", stats.hits), ("miss", stats.misses),
                                ("joined", stats.joined)):
                if now > seen[result]:
                    self.cache.labels(result).inc(now - seen[result])
                    seen[result] = now

    def operation_label(self, name: object) -> str:
        """A bounded label for a client-chosen operation name (of any JSON type:
        the client chose that too)."""
        if name is None or name == "":
            return "anonymous"
        if not isinstance(name, str) or not _NAME.match(name):
            return "invalid"
        with self._lock:
            if name in self._names:
                return name
            if len(self._names) < self._max_names:
                self._names.add(name)
                return name
        return "other"

    def set_breaker(self, centre: str, state: object) -> None:
        value = BREAKER_STATES.get(str(getattr(state, "value", state)).lower())
        if value is not None:
            self.breaker.labels(centre).set(value)

    def _source(self) -> CollectorRegistry:
        """This app's registry; across all workers when running multi-process."""
        if multiprocess_dir() is None:
            return self.registry
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry

    def exposition(self) -> bytes:
        """The Prometheus text format."""
        return generate_latest(self._source())

    def negotiate(self, accept: str | None) -> tuple[bytes, str]:
        """The body and its content type for an ``Accept`` header: OpenMetrics for
        ``application/openmetrics-text`` (as Prometheus asks), else the text format."""
        encode, content_type = choose_encoder(accept or "")
        return encode(self._source()), content_type
