"""A short-lived cache of centre records in front of any :class:`Connector`.

:class:`RecordCache` holds raw :class:`MatterRecord` s keyed by ``(centre,
native id)`` — never by caller: authorization, jurisdiction and masking are
applied by the gateway *after* this stage, to every record, cached or not.
One cache serves all centres; each :class:`CachingConnector` is its window.

* ``get_many`` answers hits from memory and makes **one** inner call for the
  misses. A miss that another caller is already fetching is joined, not
  fetched again (single flight: no stampede when a popular record expires).
* Records live ``ttl_seconds`` at most, less when the centre's
  ``Cache-Control`` says so (``max-age=0``, ``no-store``, ``private``: not kept).
* Absence and failures are never cached: a matter filed a second ago is found,
  and an error reaches only the callers of the call that failed.
* With Redis configured, misses consult it before the centre, and fetched
  records are written to it after the waiters have their answer.

Searches (``find_by_citizens``, ``list_matters``) are **not** cached: their keys
are resident IDs and filters, their answers must show a matter the moment it
is filed, and concurrent identical searches already share one HTTP call in
the centre client. Their records are primed into the cache, so following a
link to a matter just seen in a list costs no centre call.

Example::

    cache = RecordCache(ttl_seconds=5, max_entries=10_000)
    connector = CachingConnector(MediationConnector(...), cache)
    await connector.get_many(["TJ2024000123"])   # centre call
    await connector.get_many(["TJ2024000123"])   # from memory
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cachetools import TLRUCache

from onedoor.model import Centre, MatterRecord

from ._common import unique
from .base import Connector, Health, ListQuery, MatterPage
from .freshness import collecting
from .redis_store import RedisRecordStore
from .settings import CacheSettings

__all__ = ["CacheStats", "CachingConnector", "RecordCache"]

Key = tuple[Centre, str]
Fetch = Callable[[Sequence[str]], Awaitable[Mapping[str, MatterRecord]]]


@dataclass(slots=True)
class CacheStats:
    hits: int = 0
    misses: int = 0
    joined: int = 0  # misses already being fetched by another caller
    fetches: int = 0  # inner calls made
    stored: int = 0


def _expiry(_key: Key, entry: tuple[MatterRecord, float], _now: float) -> float:
    return entry[1]


def _consume(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()  # every waiter may have gone; the failure is not "never retrieved"


class RecordCache:
    def __init__(
        self,
        *,
        ttl_seconds: float,
        max_entries: int,
        shared: RedisRecordStore | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self.shared = shared
        self.stats = CacheStats()
        self._clock = clock
        self._entries: TLRUCache[Key, tuple[MatterRecord, float]] = TLRUCache(
            maxsize=max_entries, ttu=_expiry, timer=clock
        )
        self._flights: dict[Key, asyncio.Future[MatterRecord | None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    @classmethod
    def from_settings(
        cls, settings: CacheSettings, *, clock: Callable[[], float] = time.monotonic
    ) -> RecordCache:
        shared = None
        if settings.redis_url is not None:
            shared = RedisRecordStore.from_url(
                settings.redis_url.get_secret_value(), prefix=settings.redis_key_prefix,
                timeout=settings.redis_timeout, connect_timeout=settings.redis_connect_timeout,
                retry_seconds=settings.redis_retry_seconds, clock=clock,
            )
        return cls(ttl_seconds=settings.ttl_seconds, max_entries=settings.max_entries,
                   shared=shared, clock=clock)

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, centre: Centre, native_id: str) -> MatterRecord | None:
        entry = self._entries.get((centre, native_id))
        return None if entry is None else entry[0]

    def invalidate(self, centre: Centre, native_ids: Iterable[str]) -> None:
        """Forget records known to have changed (e.g. on a centre's webhook)."""
        for native_id in native_ids:
            self._entries.pop((centre, native_id), None)

    async def get_many(self, centre: Centre, native_ids: Sequence[str], fetch: Fetch) -> dict[str, MatterRecord]:
        found: dict[str, MatterRecord] = {}
        waiting: dict[str, asyncio.Future[MatterRecord | None]] = {}
        missing: list[str] = []
        for native_id in unique(native_ids):
            record = self.get(centre, native_id)
            if record is not None:
                self.stats.hits += 1
                found[native_id] = record
            elif (flight := self._flights.get((centre, native_id))) is not None:
                self.stats.joined += 1
                waiting[native_id] = flight
            else:
                self.stats.misses += 1
                missing.append(native_id)
        if missing:
            waiting.update(self._launch(centre, missing, fetch))
        for native_id, future in waiting.items():
            record = await asyncio.shield(future)
            if record is not None:
                found[native_id] = record
        return found

    def _launch(self, centre: Centre, ids: list[str], fetch: Fetch) -> dict[str, asyncio.Future[MatterRecord | None]]:
        """One task fetches every miss: the caller that started it may be cancelled
        without failing the callers that joined."""
        loop = asyncio.get_running_loop()
        futures: dict[str, asyncio.Future[MatterRecord | None]] = {}
        for native_id in ids:
            future: asyncio.Future[MatterRecord | None] = loop.create_future()
            future.add_done_callback(_consume)
            futures[native_id] = self._flights[(centre, native_id)] = future
        self._track(self._fill(centre, futures, fetch))
        return futures

    async def _fill(self, centre: Centre, futures: dict[str, asyncio.Future[MatterRecord | None]],
                    fetch: Fetch) -> None:
        to_share: list[tuple[MatterRecord, float]] = []
        try:
            found = await self._load(centre, list(futures), fetch, to_share)
        except BaseException as exc:
            for future in futures.values():
                if future.done():
                    continue
                if isinstance(exc, asyncio.CancelledError):
                    future.cancel()
                else:
                    future.set_exception(exc)
            if isinstance(exc, asyncio.CancelledError):
                raise
            return
        finally:
            for native_id, future in futures.items():
                if self._flights.get((centre, native_id)) is future:
                    del self._flights[(centre, native_id)]
        for native_id, future in futures.items():
            if not future.done():
                future.set_result(found.get(native_id))
        if self.shared is not None and to_share:
            await self.shared.put_many(to_share)  # after the waiters have their answer

    async def _load(self, centre: Centre, ids: list[str], fetch: Fetch,
                    to_share: list[tuple[MatterRecord, float]]) -> dict[str, MatterRecord]:
        found: dict[str, MatterRecord] = {}
        if self.shared is not None:
            for (_, native_id), (record, left) in (await self.shared.get_many([(centre, i) for i in ids])).items():
                found[native_id] = record
                self._put(record, min(left, self.ttl_seconds))
        rest = [i for i in ids if i not in found]
        if rest:
            self.stats.fetches += 1
            with collecting() as fresh:
                fetched = await fetch(rest)
            ttl = fresh.ttl(self.ttl_seconds)
            for native_id in rest:
                got = fetched.get(native_id)
                if got is not None:
                    found[native_id] = got
                    if self._put(got, ttl):
                        to_share.append((got, ttl))
        return found

    def _put(self, record: MatterRecord, ttl: float) -> bool:
        if ttl <= 0:
            return False
        self._entries[record.key] = (record, self._clock() + ttl)
        self.stats.stored += 1
        return True

    def prime(self, records: Iterable[MatterRecord], ttl: float) -> None:
        """Keep records a search returned (also in Redis, in the background)."""
        kept = [(r, ttl) for r in records if self._put(r, ttl)]
        if kept and self.shared is not None:
            self._track(self.shared.put_many(kept))

    def _track(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for background fills and Redis writes (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def aclose(self) -> None:
        await self.drain()
        if self.shared is not None:
            await self.shared.aclose()


class CachingConnector:
    """The :class:`Connector` protocol over ``inner`` with a shared :class:`RecordCache`.
    Anything else (``get_residents``, writes, ``http``) passes straight through."""

    def __init__(self, inner: Connector, cache: RecordCache) -> None:
        self.inner = inner
        self.cache = cache
        self.centre: Centre = inner.centre

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def get_many(self, native_ids: Sequence[str]) -> Mapping[str, MatterRecord]:
        return await self.cache.get_many(self.centre, native_ids, self.inner.get_many)

    async def find_by_citizens(self, id_numbers: Sequence[str]) -> Mapping[str, Sequence[MatterRecord]]:
        with collecting() as fresh:
            found = await self.inner.find_by_citizens(id_numbers)
        self.cache.prime((r for rs in found.values() for r in rs), fresh.ttl(self.cache.ttl_seconds))
        return found

    async def list_matters(self, query: ListQuery) -> MatterPage:
        with collecting() as fresh:
            page = await self.inner.list_matters(query)
        self.cache.prime(page.items, fresh.ttl(self.cache.ttl_seconds))
        return page

    def invalidate(self, native_ids: Iterable[str]) -> None:
        self.cache.invalidate(self.centre, native_ids)

    async def health(self) -> Health:
        return await self.inner.health()

    async def aclose(self) -> None:
        await self.inner.aclose()
        await self.cache.aclose()  # shared by the other centres' windows: closing twice is harmless
