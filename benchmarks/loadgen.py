"""One load generator for every arm (aiohttp: its C parser keeps the client's
own CPU small on a machine the gateways share): sequential latency, N-client
throughput with the gateway's CPU per query read from ``/proc``, and backend
calls per query from the sandbox centres' ``/_sandbox/stats``.

    async with Load(url, headers, body) as load:     # body(n) -> the n-th request's JSON
        times = await load.latency(100)
        run = await load.throughput(8.0, 32, pids)   # pids: the gateway's processes
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import aiohttp

from .processes import cpu_seconds, machine_busy

__all__ = ["Load", "Throughput", "backend_calls", "percentile"]


@dataclass(frozen=True, slots=True)
class Throughput:
    ok: int
    errors: int
    seconds: float
    cpu_seconds: float  # the gateway's processes, user + system
    machine_busy_pct: float  # the whole machine, every core
    first_error: str | None

    @property
    def rps(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms_per_query(self) -> float:
        return 1000 * self.cpu_seconds / max(self.ok, 1)


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile of sorted seconds, in milliseconds."""
    return values[min(len(values) - 1, int(q * len(values)))] * 1000


class Load:
    def __init__(self, url: str, headers: dict[str, str], body: Callable[[int], dict[str, Any]],
                 connections: int = 64) -> None:
        self.url = url
        self.headers = {**headers, "Content-Type": "application/json"}
        self.body = body
        self._connections = connections
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Load:
        connector = aiohttp.TCPConnector(limit=self._connections)
        self._session = aiohttp.ClientSession(connector=connector,
                                              timeout=aiohttp.ClientTimeout(total=60))
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        if self._session is not None:
            await self._session.close()

    async def one(self, n: int) -> float:
        """Seconds for the ``n``-th request; a non-200 or any GraphQL error raises."""
        assert self._session is not None
        data = json.dumps(self.body(n)).encode()
        start = time.perf_counter()
        async with self._session.post(self.url, data=data, headers=self.headers) as response:
            raw = await response.read()
        elapsed = time.perf_counter() - start
        answer = json.loads(raw)
        if response.status != 200 or answer.get("errors") or not answer.get("data"):
            raise RuntimeError(f"{response.status} {raw[:300]!r}")
        return elapsed

    async def latency(self, n: int, warm_up: int = 5) -> list[float]:
        for i in range(warm_up):
            await self.one(i)
        return sorted([await self.one(i) for i in range(n)])

    async def throughput(self, seconds: float, clients: int, pids: list[int]) -> Throughput:
        ok = errors = 0
        first_error: str | None = None
        stop = time.perf_counter() + seconds

        async def client(k: int) -> None:
            nonlocal ok, errors, first_error
            i = k
            while time.perf_counter() < stop:
                try:
                    await self.one(i)
                    ok += 1
                except Exception as exc:  # counted and reported, not fatal
                    errors += 1
                    first_error = first_error or repr(exc)[:300]
                i += clients

        cpu0, (busy0, total0) = cpu_seconds(pids), machine_busy()
        started = time.perf_counter()
        await asyncio.gather(*(client(k) for k in range(clients)))
        elapsed = time.perf_counter() - started
        cpu1, (busy1, total1) = cpu_seconds(pids), machine_busy()
        return Throughput(ok, errors, elapsed, cpu1 - cpu0,
                          100 * (busy1 - busy0) / max(total1 - total0, 1), first_error)


async def backend_calls(load: Load, centres: list[str], n: int) -> list[Counter[str]]:
    """Per request (one at a time), the centre calls it caused, by ``CENTRE endpoint``."""
    assert load._session is not None
    session = load._session
    counts = []
    for i in range(n):
        for url in centres:
            async with session.post(url + "/_sandbox/stats/reset") as response:
                await response.read()
        await load.one(i)
        calls: Counter[str] = Counter()
        for url in centres:
            async with session.get(url + "/_sandbox/stats") as response:
                stats = await response.json()
            calls.update({endpoint: count for endpoint, count in stats["byEndpoint"].items()
                          if "openapi" not in endpoint})
        counts.append(calls)
    return counts
