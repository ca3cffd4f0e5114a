"""Feeds: how the projection reads every record of a centre, in the centre's own style.

The interactive connectors answer one request at a time; a feed reads a whole
centre in pages and then follows its changes. Three styles (sandbox/API.md, "Feeds"):

- ``PUSH`` — the centre calls the gateway back with the id of a changed record
  (MEDIATION, LITIGATION, GOVERNANCE); the feed re-reads those ids, and a
  snapshot pages the centre's unfiltered list.
- ``CURSOR`` — the centre answers "what changed since this cursor"
  (LEGAL_SERVICES ``/v1/changes``); an empty cursor starts with everything.
- ``EXPORT`` — a legacy centre writes a nightly dump (PETITIONS ``/xf/export``);
  the newest dump is the snapshot, as of its cut time.

Feeds are built by :func:`build_feeds` with their own connector instances (their
own pools, concurrency limits and breakers — the bulkhead), so background reads
never trip a breaker that interactive requests then hit.

Example (``connectors.registry.build_feeds``)::

    feeds = build_feeds(settings.centres, policy=CallPolicy(max_concurrency=2))
    async for page in feeds[Centre.MEDIATION].snapshot():
        ...
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Protocol, runtime_checkable

from onedoor.model import Centre, MatterRecord

__all__ = ["ChangePage", "CursorFeed", "ExportFeed", "ExportFile", "Feed", "FeedStyle"]


class FeedStyle(Enum):
    PUSH = "PUSH"
    CURSOR = "CURSOR"
    EXPORT = "EXPORT"


@dataclass(frozen=True, slots=True)
class ChangePage:
    records: tuple[MatterRecord, ...]
    cursor: str  # where the next read resumes
    more: bool  # False: this page reached the end of the feed


@dataclass(frozen=True, slots=True)
class ExportFile:
    name: str
    as_of: dt.datetime  # every change before this is in the file
    records: int


@runtime_checkable
class Feed(Protocol):
    centre: Centre
    style: FeedStyle

    def snapshot(self) -> AsyncIterator[Sequence[MatterRecord]]:
        """Every record the centre holds now, in pages (a record may appear twice)."""
        ...

    async def fetch(self, native_ids: Sequence[str]) -> Mapping[str, MatterRecord]:
        """Records by id; ids the centre does not hold are absent."""
        ...

    async def aclose(self) -> None: ...


@runtime_checkable
class CursorFeed(Feed, Protocol):
    async def changes(self, cursor: str | None) -> ChangePage:
        """The records changed after ``cursor`` (``None``: all of them), one page."""
        ...


@runtime_checkable
class ExportFeed(Feed, Protocol):
    async def exports(self) -> list[ExportFile]:
        """The dumps the centre offers, oldest first."""
        ...

    def read(self, name: str) -> AsyncIterator[Sequence[MatterRecord]]:
        """The records of one dump, in pages."""
        ...
