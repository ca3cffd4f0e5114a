"""How long a centre says its answer stays fresh, carried from the HTTP stage
up to the record cache without widening the :class:`Connector` protocol.

The cache opens a :func:`collecting` scope around its call to the inner
connector; every response the centre client receives inside it (also in tasks
started inside: the context is copied) reports its ``Cache-Control``. The
tightest answer wins. A shared cache must not store what a centre marks
``private``, ``no-store`` or ``no-cache``, so those count as zero seconds.

Example::

    with collecting() as fresh:
        records = await connector.get_many(ids)
    ttl = fresh.ttl(default=5.0)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

__all__ = ["Freshness", "collecting", "max_age", "note_cache_control"]

_UNCACHEABLE = frozenset({"no-store", "no-cache", "private"})


def max_age(header: str | None) -> float | None:
    """Seconds a shared cache may keep the response, or ``None`` if the header says nothing.

    >>> max_age("public, max-age=30"), max_age("max-age=60, s-maxage=10"), max_age("no-store")
    (30.0, 10.0, 0.0)
    """
    if not header:
        return None
    directives: dict[str, str | None] = {}
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        directives[name.strip().lower()] = value.strip().strip('"') or None
    if _UNCACHEABLE & directives.keys():
        return 0.0
    for name in ("s-maxage", "max-age"):  # s-maxage speaks to shared caches like this one
        raw = directives.get(name)
        if raw is not None:
            try:
                return max(0.0, float(int(raw)))
            except ValueError:
                return 0.0  # RFC 9111 §4.2.1: an invalid max-age means stale
    return None


@dataclass(slots=True)
class Freshness:
    seconds: float | None = None  # the tightest max-age seen; None: no centre said anything

    def note(self, header: str | None) -> None:
        seen = max_age(header)
        if seen is not None:
            self.seconds = seen if self.seconds is None else min(self.seconds, seen)

    def ttl(self, default: float) -> float:
        """Our own TTL is the ceiling; a centre may only shorten it."""
        return default if self.seconds is None else min(default, self.seconds)


_current: ContextVar[Freshness | None] = ContextVar("onedoor_freshness", default=None)


@contextlib.contextmanager
def collecting() -> Iterator[Freshness]:
    fresh = Freshness()
    token = _current.set(fresh)
    try:
        yield fresh
    finally:
        _current.reset(token)


def note_cache_control(header: str | None) -> None:
    """Called by the centre client for each response; a no-op outside a scope."""
    fresh = _current.get()
    if fresh is not None:
        fresh.note(header)
