"""The optional second cache level: records in Redis, shared by gateway replicas.

It is an optimisation and never a dependency. Every operation runs under a
tight timeout; any failure (refused, slow, evicted, unreadable) is a miss and
puts the store into a degraded state in which it is not asked at all for
``retry_seconds`` — so an outage costs one timeout per retry period, not one
per request — and is logged once when it starts and once when it ends.

Keys are ``{prefix}{centre}:{native id}``: never anything about the caller.

Example::

    store = RedisRecordStore.from_url("redis://cache:6379/0", prefix="onedoor:")
    found = await store.get_many([(Centre.MEDIATION, "TJ2024000123")])
    await store.put_many([(record, 5.0)])
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from onedoor.model import Centre, MatterRecord

from .codec import CodecError, dumps, loads

__all__ = ["RedisRecordStore", "RedisStats"]

_log = logging.getLogger("onedoor.connectors.cache")
_FAILURES = (RedisError, OSError, TimeoutError)
Key = tuple[Centre, str]


@dataclass(slots=True)
class RedisStats:
    hits: int = 0
    misses: int = 0
    writes: int = 0
    errors: int = 0
    skipped: int = 0  # calls not made while degraded
    outages: int = 0


class RedisRecordStore:
    def __init__(
        self,
        client: aioredis.Redis,
        *,
        prefix: str,
        timeout: float,
        retry_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.timeout = timeout
        self.retry_seconds = retry_seconds
        self.stats = RedisStats()
        self._clock = clock
        self._down_until: float | None = None

    @classmethod
    def from_url(
        cls, url: str, *, prefix: str, timeout: float = 0.05, connect_timeout: float = 0.2,
        retry_seconds: float = 5.0, clock: Callable[[], float] = time.monotonic,
    ) -> RedisRecordStore:
        # No client-side retries: a retry is a second timeout on the request's path.
        client = aioredis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=connect_timeout,
            retry=Retry(NoBackoff(), 0), retry_on_timeout=False, health_check_interval=0,
        )
        return cls(client, prefix=prefix, timeout=max(timeout, connect_timeout),
                   retry_seconds=retry_seconds, clock=clock)

    @property
    def degraded(self) -> bool:
        return self._down_until is not None

    def key(self, centre: Centre, native_id: str) -> str:
        return f"{self.prefix}{centre.value}:{native_id}"

    async def get_many(self, keys: Sequence[Key]) -> dict[Key, tuple[MatterRecord, float]]:
        """Records found, each with the seconds it has left; failures are misses."""
        if not keys or not self._usable():
            return {}
        pipe = self.client.pipeline(transaction=False)
        for centre, native_id in keys:
            pipe.get(self.key(centre, native_id))
            pipe.pttl(self.key(centre, native_id))
        replies = await self._guarded(pipe.execute())
        if replies is None:
            return {}
        found: dict[Key, tuple[MatterRecord, float]] = {}
        for key, raw, pttl in zip(keys, replies[0::2], replies[1::2], strict=True):
            record = self._decode(raw)
            if record is None or record.key != key or not isinstance(pttl, int) or pttl <= 0:
                self.stats.misses += 1
                continue
            self.stats.hits += 1
            found[key] = (record, pttl / 1000)
        return found

    async def put_many(self, items: Sequence[tuple[MatterRecord, float]]) -> None:
        """Store records for their TTLs (seconds); records that cannot be encoded are skipped."""
        if not items or not self._usable():
            return
        pipe = self.client.pipeline(transaction=False)
        queued = 0
        for record, ttl in items:
            millis = int(ttl * 1000)
            try:
                payload = dumps(record)
            except CodecError as exc:
                _log.warning("shared cache: %s record not stored: %s", record.centre.value, exc)
                continue
            if millis > 0:
                pipe.set(self.key(*record.key), payload, px=millis)
                queued += 1
        if queued and await self._guarded(pipe.execute()) is not None:
            self.stats.writes += queued

    def _decode(self, raw: Any) -> MatterRecord | None:
        if raw is None:
            return None
        try:
            return loads(raw)
        except CodecError:
            return None  # written by another release, or damaged: a miss

    def _usable(self) -> bool:
        if self._down_until is None or self._clock() >= self._down_until:
            return True
        self.stats.skipped += 1
        return False

    async def _guarded(self, call: Any) -> list[Any] | None:
        try:
            async with asyncio.timeout(self.timeout):
                replies: list[Any] = await call
        except _FAILURES as exc:
            self.stats.errors += 1
            if self._down_until is None:
                self.stats.outages += 1
                _log.warning("shared cache (Redis) unavailable, serving from the local cache: %s",
                             type(exc).__name__)
            self._down_until = self._clock() + self.retry_seconds
            return None
        if self._down_until is not None:
            _log.info("shared cache (Redis) is back")
            self._down_until = None
        return replies

    async def aclose(self) -> None:
        with contextlib.suppress(*_FAILURES):
            await self.client.aclose()
