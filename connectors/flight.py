"""Single flight: concurrent callers asking the same thing share one call.

Used twice at the centre stage: by :class:`connectors.http.CentreClient` for
identical reads (same method, path, params and body — within one GraphQL
request and across concurrent ones, since the client is shared), and by the
record cache for misses on the same record.

The shared call runs in its own task, so the caller that started it can be
cancelled (a client hung up, a sibling field failed) without failing the
others; each caller waits under its own deadline. Nothing is remembered once
the call is done: a failure reaches every waiter and is never cached.

Example::

    flights: Flights[str, bytes] = Flights()
    body, joined = await flights.run("GET /a", lambda: fetch("/a"))
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Hashable, Mapping
from typing import Any, Generic, TypeVar

import httpx

__all__ = ["Flights", "request_key"]

_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")


class Flights(Generic[_K, _V]):
    def __init__(self) -> None:
        self._running: dict[_K, asyncio.Task[_V]] = {}

    def __len__(self) -> int:
        return len(self._running)

    async def run(self, key: _K, start: Callable[[], Awaitable[_V]]) -> tuple[_V, bool]:
        """The call's result and whether this caller joined one already in flight."""
        task = self._running.get(key)
        joined = task is not None and not task.done()
        if task is None or task.done():
            task = asyncio.ensure_future(_awaited(start))
            self._running[key] = task
            task.add_done_callback(lambda t: self._landed(key, t))
        return await asyncio.shield(task), joined

    def _landed(self, key: _K, task: asyncio.Task[_V]) -> None:
        if self._running.get(key) is task:
            del self._running[key]
        if not task.cancelled():
            task.exception()  # retrieved: every waiter may have given up already


async def _awaited(start: Callable[[], Awaitable[_V]]) -> _V:
    return await start()


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def request_key(
    method: str,
    path: str,
    params: Any = None,
    json_body: Any = None,
    content: bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> tuple[str, ...]:
    """What makes two centre requests the same request (params in httpx's own
    encoding, JSON bodies with sorted keys)."""
    query = "" if params is None else str(httpx.QueryParams(params))
    extra = "" if not headers else _canonical(sorted((k.lower(), v) for k, v in headers.items()))
    return (method.upper(), path, query, _canonical(json_body), (content or b"").hex(), extra)
