"""The one small protocol every projection engine implements, and its opener.

An engine keeps :class:`~services.projection.rows.ProjectionRow` s and a
watermark per centre, and answers four questions with the region prefix inside
the query (jurisdiction is never applied afterwards): KPI cells of a period,
open matters past a deadline, the matters of an organisation (by credit code),
and rows by key (to follow links).

Example — a new engine needs only these methods::

    class ClickHouseProjection:
        async def upsert(self, rows): ...
        async def delete(self, centre, native_ids): ...
        async def count(self, centre): ...
        async def fingerprints(self, centre): ...
        async def set_watermark(self, mark): ...
        async def watermarks(self): ...
        async def cells(self, query): ...
        async def overdue(self, prefix, as_of): ...
        async def rows(self, keys): ...
        async def roots(self, prefix, start, end, centres): ...
        async def organisation_matters(self, org_code, prefix): ...
        async def aclose(self): ...
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from onedoor.model import Centre

from .rows import FLAGS, ProjectionRow

__all__ = ["CellQuery", "CellRow", "ProjectionStore", "Watermark", "open_projection_store", "prefix_bounds"]


@dataclass(frozen=True, slots=True)
class Watermark:
    """Every change a centre made before ``as_of`` is in the projection.

    ``style`` is how the centre feeds us (``PUSH``, ``CURSOR``, ``EXPORT``);
    ``cursor`` is where the next poll resumes (the centre's own token or file name).
    """

    centre: Centre
    style: str
    as_of: dt.datetime | None
    cursor: str | None = None
    rows: int = 0
    error: str | None = None


@dataclass(frozen=True, slots=True)
class CellQuery:
    """KPI cells of the matters registered in ``[start, end]`` under ``prefix``,
    grouped by centre × category × month × the first ``digits`` region digits."""

    prefix: str
    start: dt.datetime
    end: dt.datetime  # inclusive
    digits: int
    as_of: dt.datetime | None = None  # the moment ``overdue_open`` describes (default: now)


@dataclass(frozen=True, slots=True)
class CellRow:
    centre: Centre
    category: str
    month: str
    region: str  # the first ``digits`` digits
    counts: Mapping[str, int] = field(default_factory=dict)  # registered, flags, overdue_open, repeat_petitions


def prefix_bounds(prefix: str) -> tuple[str, str]:
    """``[low, high)`` of the codes starting with ``prefix`` (digits only): an index range,
    so every engine applies jurisdiction inside the query without ``LIKE``."""
    if not prefix.isdigit():
        raise ValueError("a region prefix is digits")
    return prefix, prefix + ":"  # ':' sorts right after '9'


@runtime_checkable
class ProjectionStore(Protocol):
    engine: str

    async def upsert(self, rows: Sequence[ProjectionRow]) -> None:
        """Insert or replace by (centre, native id); replaying a row changes nothing."""
        ...

    async def delete(self, centre: Centre, native_ids: Iterable[str]) -> int: ...

    async def count(self, centre: Centre) -> int: ...

    async def fingerprints(self, centre: Centre) -> dict[str, str]:
        """native id → :meth:`ProjectionRow.fingerprint` of every row of the centre."""
        ...

    async def set_watermark(self, mark: Watermark) -> None: ...

    async def watermarks(self) -> dict[Centre, Watermark]: ...

    async def cells(self, query: CellQuery) -> list[CellRow]: ...

    async def overdue(self, prefix: str, as_of: dt.datetime) -> list[ProjectionRow]:
        """Open rows under ``prefix`` whose deadline has passed at ``as_of`` (not yet closed then)."""
        ...

    async def rows(self, keys: Sequence[tuple[Centre, str]]) -> dict[tuple[Centre, str], ProjectionRow]: ...

    async def roots(self, prefix: str, start: dt.datetime, end: dt.datetime,
                    centres: Sequence[Centre]) -> list[ProjectionRow]:
        """Rows of ``centres`` under ``prefix`` registered in ``[start, end]`` that hold links."""
        ...

    async def organisation_matters(self, org_code: str, prefix: str) -> list[tuple[Centre, str]]:
        """Keys of the rows under ``prefix`` with ``org_code`` (canonical) among their
        organisation parties, newest first (ties: centre, native id descending)."""
        ...

    async def aclose(self) -> None: ...


async def open_projection_store(url: str, flags: Sequence[str] = FLAGS) -> ProjectionStore:
    """``duckdb:///path`` (embedded, columnar: the default), ``sqlite:///path`` (embedded, row
    store) or ``postgresql://…?schema=x`` (shared by replicas). ``flags``: the KPI columns rows
    carry (a store opened with other columns starts empty)."""
    if url.startswith("duckdb:///"):
        from .duck import DuckProjection

        return await DuckProjection.open(url.removeprefix("duckdb:///"), flags)
    if url.startswith("sqlite:///"):
        from .sqlite import SqliteProjection

        return await SqliteProjection.open(url.removeprefix("sqlite:///"), flags)
    if url.startswith(("postgresql://", "postgres://")):
        from .postgres import PostgresProjection

        return await PostgresProjection.open(url, flags)
    raise ValueError("unsupported projection URL (duckdb:///…, sqlite:///… or postgresql://…)")
