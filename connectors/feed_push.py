"""The push-style feed (MEDIATION, LITIGATION, GOVERNANCE): the centre's webhook
names a changed record, which :meth:`PushFeed.fetch` re-reads; a snapshot pages
the centre's ordinary list without filters, in its native paging (page numbers,
page tokens, offsets).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

from onedoor.model import Centre, MatterRecord

from . import governance, litigation, mediation
from .base import Connector
from .feeds import FeedStyle

__all__ = ["PushFeed"]


async def _window(fetch: Callable[[int], Awaitable[tuple[list[MatterRecord], int]]], positions: Iterable[int],
                  window: int) -> AsyncIterator[list[MatterRecord]]:
    """Fetch pages at known positions with up to ``window`` in flight, yielding them in order
    (the centre renders one while the gateway parses another)."""
    pending: deque[asyncio.Task[tuple[list[MatterRecord], int]]] = deque()
    try:
        for position in positions:
            pending.append(asyncio.ensure_future(fetch(position)))
            if len(pending) >= window:
                yield (await pending.popleft())[0]
        while pending:
            yield (await pending.popleft())[0]
    finally:
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


class PushFeed:
    style = FeedStyle.PUSH

    def __init__(self, connector: Connector, window: int = 4) -> None:
        self.connector = connector
        self.centre = connector.centre
        self.window = window  # pages in flight where page positions are known in advance

    async def fetch(self, native_ids: Sequence[str]) -> Mapping[str, MatterRecord]:
        return await self.connector.get_many(native_ids)

    async def snapshot(self) -> AsyncIterator[Sequence[MatterRecord]]:
        c: Any = self.connector
        if self.centre is Centre.MEDIATION:
            async def page(number: int) -> tuple[list[MatterRecord], int]:
                query = mediation.search_params(page=number, page_size=mediation.MAX_PAGE)
                return mediation.parse_search(await c._get(query))

            first, total = await page(1)
            yield first
            async for items in _window(page, range(2, -(-total // mediation.MAX_PAGE) + 1), self.window):
                yield items
        elif self.centre is Centre.LITIGATION:
            token: str | None = None
            while True:
                params = litigation.search_params(page_size=litigation.MAX_PAGE, page_token=token)
                found, _, token = litigation.parse_search(await c._get(params))
                yield found
                if not token or not found:
                    break
        elif self.centre is Centre.GOVERNANCE:
            async def events(offset: int) -> tuple[list[MatterRecord], int]:
                request = governance.search_request(offset=offset, limit=governance.MAX_PAGE)
                return governance.parse_search(await c._post(request))

            first, total = await events(0)
            yield first
            async for items in _window(events, range(governance.MAX_PAGE, total, governance.MAX_PAGE), self.window):
                yield items
        else:
            raise ValueError(f"{self.centre.value} does not push")

    async def aclose(self) -> None:
        await self.connector.aclose()
