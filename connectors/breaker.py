"""A circuit breaker per centre, so a centre that is down costs the gateway
nothing but an immediate, honest error instead of a full time budget per call.

::

    CLOSED ──failure_threshold consecutive failures──▶ OPEN
    OPEN ──reset_seconds later, the next call is the probe──▶ HALF_OPEN
    HALF_OPEN ──probe answered──▶ CLOSED        HALF_OPEN ──probe failed──▶ OPEN

While OPEN every call fails fast with :class:`CentreUnavailable` (no network).
In HALF_OPEN exactly one call goes through; the others fail fast until it
settles, so a recovering centre is not hit by the whole backlog at once.

Only :class:`CentreUnavailable` and :class:`CentreTimeout` count as failures:
they mean the centre is down or drowning. A 429 (it is up and says when to
come back), a bad payload or a 4xx is an answer, and answers close the breaker.

Example::

    breaker = CircuitBreaker(Centre.PETITIONS, BreakerSettings(failure_threshold=3))
    response = await breaker.call(lambda: client.get("/xf/query"))
    breaker.state  # BreakerState.CLOSED
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from enum import Enum
from typing import Any, Protocol, TypeVar

from onedoor.model import Centre

from .errors import CentreError, CentreTimeout, CentreUnavailable
from .settings import BreakerSettings

__all__ = ["BreakerCounts", "BreakerState", "CircuitBreaker", "breaker_states"]

_log = logging.getLogger("onedoor.connectors")
_T = TypeVar("_T")
_COUNTED = (CentreUnavailable, CentreTimeout)


class BreakerState(Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class BreakerCounts(Protocol):
    """Where the breaker counts its events (``CallStats`` in practice)."""

    rejected: int
    breaker_opened: int


class _Counts:
    rejected = 0
    breaker_opened = 0


class CircuitBreaker:
    def __init__(
        self,
        centre: Centre,
        settings: BreakerSettings,
        *,
        counts: BreakerCounts | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.centre = centre
        self.settings = settings
        self.counts: BreakerCounts = counts if counts is not None else _Counts()
        self._clock = clock
        self._failures = 0  # consecutive
        self._opened_at: float | None = None
        self._probing = False

    @property
    def state(self) -> BreakerState:
        """What the next call would meet (OPEN turns HALF_OPEN once the cool-down is over)."""
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._probing or self._clock() >= self._opened_at + self.settings.reset_seconds:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    async def call(self, fn: Callable[[], Awaitable[_T]]) -> _T:
        """Run ``fn`` if the breaker lets it through; record how it went."""
        if not self.settings.enabled:
            return await fn()
        probe = self._admit()
        try:
            result = await fn()
        except CentreError as exc:
            if isinstance(exc, _COUNTED):
                self._failed()
            else:
                self._answered()
            raise
        except BaseException:
            if probe:  # cancelled or a bug: no verdict on the centre, let the next call probe
                self._probing = False
            raise
        self._answered()
        return result

    def _admit(self) -> bool:
        """True when this call is the half-open probe; raises when it may not run."""
        state = self.state
        if state is BreakerState.CLOSED:
            return False
        if state is BreakerState.HALF_OPEN and not self._probing:
            self._probing = True
            _log.info("centre %s breaker half-open: probing", self.centre.value)
            return True
        self.counts.rejected += 1
        raise CentreUnavailable(self.centre, detail=f"breaker {state.value}")

    def _failed(self) -> None:
        self._failures += 1
        reopening = self._probing
        self._probing = False
        if reopening or (self._opened_at is None and self._failures >= self.settings.failure_threshold):
            self._opened_at = self._clock()
            self.counts.breaker_opened += 1
            _log.warning("centre %s breaker open after %d consecutive failures",
                         self.centre.value, self._failures)

    def _answered(self) -> None:
        if self._opened_at is not None:
            _log.info("centre %s breaker closed: the centre answered", self.centre.value)
        self._failures = 0
        self._opened_at = None
        self._probing = False


def _find_breaker(connector: Any) -> CircuitBreaker | None:
    """The breaker behind any stack of wrappers (``inner``) around a connector's ``http``."""
    seen = 0
    while connector is not None and seen < 8:
        breaker = getattr(getattr(connector, "http", None), "breaker", None)
        if isinstance(breaker, CircuitBreaker):
            return breaker
        connector = getattr(connector, "inner", None)
        seen += 1
    return None


def breaker_states(connectors: Mapping[Centre, object]) -> dict[Centre, BreakerState]:
    """For health and readiness: each centre's breaker state (centres without one are absent).

    Example: ``{c.value: s.value for c, s in breaker_states(connectors).items()}``.
    """
    found = {centre: _find_breaker(conn) for centre, conn in connectors.items()}
    return {centre: b.state for centre, b in found.items() if b is not None}
