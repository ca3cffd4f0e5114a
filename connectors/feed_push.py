"""The push-style feed (MEDIATION, LITIGATION, GOVERNANCE): the centre's webhook
names a changed record, which :meth:`PushFeed.fetch` re-reads; a snapshot pages
the centre's ordinary list without filters, in its native paging (page numbers,
page tokens, offsets).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from onedoor.model import Centre, MatterRecord

from . import governance, litigation, mediation
from .base import Connector
from .feeds import FeedStyle

__all__ = ["PushFeed"]


class PushFeed:
    style = FeedStyle.PUSH

    def __init__(self, connector: Connector) -> None:
        self.connector = connector
        self.centre = connector.centre

    async def fetch(self, native_ids: Sequence[str]) -> Mapping[str, MatterRecord]:
        return await self.connector.get_many(native_ids)

    async def snapshot(self) -> AsyncIterator[Sequence[MatterRecord]]:
        c: Any = self.connector
        if self.centre is Centre.MEDIATION:
            page, total = 1, 1
            while (page - 1) * mediation.MAX_PAGE < total:
                query = mediation.search_params(page=page, page_size=mediation.MAX_PAGE)
                items, total = mediation.parse_search(await c._get(query))
                yield items
                page += 1
        elif self.centre is Centre.LITIGATION:
            token: str | None = None
            while True:
                params = litigation.search_params(page_size=litigation.MAX_PAGE, page_token=token)
                found, _, token = litigation.parse_search(await c._get(params))
                yield found
                if not token or not found:
                    break
        elif self.centre is Centre.GOVERNANCE:
            offset, total = 0, 1
            while offset < total:
                request = governance.search_request(offset=offset, limit=governance.MAX_PAGE)
                events, total = governance.parse_search(await c._post(request))
                yield events
                offset += governance.MAX_PAGE
        else:
            raise ValueError(f"{self.centre.value} does not push")

    async def aclose(self) -> None:
        await self.connector.aclose()
