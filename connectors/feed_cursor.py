"""The changed-since feed of LEGAL_SERVICES: ``GET /v1/changes?cursor=…&limit=…``
(``{"data", "next_cursor", "has_more"}``). An empty cursor sweeps every record
first, so the same call makes the initial load, the polls and a full resync."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from onedoor.model import MatterRecord

from ._common import as_dict, as_list, decoding, json_body, opt_str
from .base import Connector
from .feeds import ChangePage, FeedStyle
from .legal import CENTRE, parse_application

__all__ = ["PAGE", "LegalChanges", "parse_changes"]

PAGE = 500


def parse_changes(payload: Any) -> ChangePage:
    with decoding(CENTRE, "changes"):
        body = as_dict(payload)
        items = tuple(parse_application(i) for i in as_list(body["data"], "data"))
        cursor = opt_str(body, "next_cursor")
        if cursor is None:
            raise ValueError("no next_cursor")
        return ChangePage(items, cursor, bool(body["has_more"]))


class LegalChanges:
    style = FeedStyle.CURSOR

    def __init__(self, connector: Connector) -> None:
        self.connector = connector
        self.centre = connector.centre

    async def changes(self, cursor: str | None) -> ChangePage:
        http: Any = getattr(self.connector, "http")  # noqa: B009 - the connector's own client
        response = await http.request("GET", "/v1/changes", params={"cursor": cursor or "", "limit": str(PAGE)})
        return parse_changes(json_body(CENTRE, response))

    async def snapshot(self) -> AsyncIterator[Sequence[MatterRecord]]:
        cursor: str | None = None
        while True:
            page = await self.changes(cursor)
            yield page.records
            cursor = page.cursor
            if not page.more:
                break

    async def fetch(self, native_ids: Sequence[str]) -> Mapping[str, MatterRecord]:
        return await self.connector.get_many(native_ids)

    async def aclose(self) -> None:
        await self.connector.aclose()
