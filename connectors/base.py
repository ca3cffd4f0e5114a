"""The one small protocol every centre connector implements.

The gateway knows only this protocol; each centre's quirks (XML, epoch
milliseconds, 15-digit IDs, cursor styles, auth) stay inside its module.

Example — a sixth centre needs only these methods::

    class ArbitrationConnector:
        centre = Centre.ARBITRATION
        async def get_many(self, native_ids): ...
        async def find_by_citizens(self, id_numbers): ...
        async def list_matters(self, query): ...
        async def health(self): ...
        async def aclose(self): ...
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from onedoor.model import Centre, MatterRecord, MatterStatus

__all__ = ["Connector", "Health", "ListQuery", "MatterPage"]


@dataclass(frozen=True, slots=True)
class ListQuery:
    """A centre-agnostic search. ``None`` means "no filter"; an empty tuple
    means "match nothing" (the caller short-circuits it)."""

    region_prefixes: tuple[str, ...] | None = None
    statuses: tuple[MatterStatus, ...] | None = None
    categories: tuple[str, ...] | None = None
    received_from: dt.datetime | None = None
    received_to: dt.datetime | None = None  # inclusive
    overdue: bool | None = None
    limit: int = 20


@dataclass(frozen=True, slots=True)
class MatterPage:
    items: tuple[MatterRecord, ...]  # newest first (received_at desc, then native id desc)
    total: int  # all matches of the query, not just this page


@dataclass(frozen=True, slots=True)
class Health:
    centre: Centre
    ok: bool
    latency_ms: float
    error_code: str | None = None


@runtime_checkable
class Connector(Protocol):
    centre: Centre

    async def get_many(self, native_ids: Sequence[str]) -> Mapping[str, MatterRecord]:
        """Records by native id; ids the centre does not hold are absent."""
        ...

    async def find_by_citizens(
        self, id_numbers: Sequence[str]
    ) -> Mapping[str, Sequence[MatterRecord]]:
        """Every matter in which each (canonical) resident ID is a party."""
        ...

    async def list_matters(self, query: ListQuery) -> MatterPage:
        """Up to ``query.limit`` matches, newest first, and the total match count."""
        ...

    async def health(self) -> Health: ...

    async def aclose(self) -> None: ...
