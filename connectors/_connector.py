"""What the five HTTP connectors have in common beyond the call machinery:
fan-out, the citizen search, paging a list, the health probe and closing.

A centre module subclasses :class:`SearchConnector` and supplies ``_search``
(one native search, paged to a limit) and ``_probe`` (a cheap real request);
``get_many`` stays centre-specific because batch reads differ most.
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from typing import TypeVar

from onedoor.model import Centre, MatterRecord

from ._common import MAX_CITIZEN_RECORDS, canonical_id, chunks, group_by_citizen, unique
from .base import Health, ListQuery, MatterPage
from .errors import CentreError
from .http import CentreClient

__all__ = ["SearchConnector", "fan_out"]

_T = TypeVar("_T")


async def fan_out(aws: Iterable[Awaitable[_T]]) -> list[_T]:
    """Run awaitables concurrently, results in order. The first failure
    cancels the rest and is raised as itself (not an ExceptionGroup), so
    callers see one :class:`CentreError`."""
    pending = list(aws)
    if len(pending) == 1:  # the usual case (one citizen, one page): no task to spawn
        return [await pending[0]]
    tasks = [asyncio.ensure_future(aw) for aw in pending]
    try:
        return list(await asyncio.gather(*tasks))
    finally:
        for task in tasks:
            if not task.done():
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class SearchConnector(abc.ABC):
    centre: Centre
    http: CentreClient
    citizens_per_search = 50  # IDs per native search: keeps URLs well under server limits

    @abc.abstractmethod
    async def _search(
        self, query: ListQuery | None, limit: int, id_numbers: Sequence[str] = ()
    ) -> tuple[tuple[MatterRecord, ...], int]:
        """Up to ``limit`` newest matches of a native search, and the total."""

    @abc.abstractmethod
    async def _probe(self) -> object:
        """One cheap real request, for :meth:`health`."""

    async def find_by_citizens(
        self, id_numbers: Sequence[str]
    ) -> Mapping[str, Sequence[MatterRecord]]:
        canon = unique(c for c in map(canonical_id, id_numbers) if c)
        records: list[MatterRecord] = []
        if canon:
            async with self.http.budget():
                pages = await fan_out(
                    self._search(None, MAX_CITIZEN_RECORDS, chunk)
                    for chunk in chunks(canon, self.citizens_per_search)
                )
            records = [r for found, _ in pages for r in found]
        return group_by_citizen(id_numbers, records)

    async def list_matters(self, query: ListQuery) -> MatterPage:
        async with self.http.budget():
            items, total = await self._search(query, query.limit)
        return MatterPage(items=items, total=total)

    async def health(self) -> Health:
        """One cheap real request. Never raises a :class:`CentreError`: an
        unhealthy centre is an answer, not a failure."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            async with self.http.budget():
                await self._probe()
        except CentreError as exc:
            return Health(self.centre, ok=False, latency_ms=(loop.time() - started) * 1000,
                          error_code=exc.code)
        return Health(self.centre, ok=True, latency_ms=(loop.time() - started) * 1000)

    async def aclose(self) -> None:
        await self.http.aclose()
