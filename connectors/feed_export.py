"""The nightly export of PETITIONS, a legacy system that only dumps: ``GET /xf/export``
lists the dumps (``<wjlb><wj><mc/><dcsj/><jls/></wj></wjlb>``), ``GET /xf/export/{mc}``
serves one (gzip, ``<xfdc><dcsj/><xfjl/>…</xfdc>``). The newest dump is the
snapshot, as of its cut time (``dcsj``); between dumps nothing is known."""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import io
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from defusedxml.ElementTree import iterparse

from onedoor.model import CST, MatterRecord

from ._common import decoding, expect_status
from .base import Connector
from .feeds import ExportFile, FeedStyle
from .petitions import CENTRE, parse_record, parse_xml

__all__ = ["PAGE", "PetitionsExports", "parse_dump", "parse_listing"]

PAGE = 1000


def parse_listing(content: bytes) -> list[ExportFile]:
    root = parse_xml(content)
    with decoding(CENTRE, "export list"):
        if root.tag != "wjlb":
            raise ValueError(f"unexpected <{root.tag}>")
        return [ExportFile(name=str(wj.findtext("mc")),
                           as_of=dt.datetime.strptime(str(wj.findtext("dcsj")), "%Y%m%d%H%M%S").replace(tzinfo=CST),
                           records=int(str(wj.findtext("jls"))))
                for wj in root.findall("wj")]


def parse_dump(content: bytes, page: int = PAGE) -> Iterator[list[MatterRecord]]:
    """The records of a gzip dump, ``page`` at a time (parsed incrementally)."""
    with decoding(CENTRE, "export"), gzip.GzipFile(fileobj=io.BytesIO(content)) as raw:
        batch: list[MatterRecord] = []
        for _, element in iterparse(raw, events=("end",)):
            if element.tag == "xfjl":
                batch.append(parse_record(element))
                element.clear()
                if len(batch) >= page:
                    yield batch
                    batch = []
        if batch:
            yield batch


class PetitionsExports:
    style = FeedStyle.EXPORT

    def __init__(self, connector: Connector) -> None:
        self.connector = connector
        self.centre = connector.centre
        self._http: Any = getattr(connector, "http")  # noqa: B009 - the connector's own client

    async def exports(self) -> list[ExportFile]:
        response = await self._http.request("GET", "/xf/export")
        expect_status(CENTRE, response)
        return parse_listing(response.content)

    async def read(self, name: str) -> AsyncIterator[Sequence[MatterRecord]]:
        response = await self._http.request("GET", f"/xf/export/{quote(name)}")
        expect_status(CENTRE, response)
        pages = parse_dump(response.content)
        while (batch := await asyncio.to_thread(next, pages, None)) is not None:
            yield batch

    async def snapshot(self) -> AsyncIterator[Sequence[MatterRecord]]:
        files = await self.exports()
        if files:
            async for batch in self.read(files[-1].name):
                yield batch

    async def fetch(self, native_ids: Sequence[str]) -> Mapping[str, MatterRecord]:
        return await self.connector.get_many(native_ids)

    async def aclose(self) -> None:
        await self.connector.aclose()
