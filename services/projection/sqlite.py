"""The embedded engine: one SQLite file, no server (the default).

Calls run in a worker thread under one lock (sqlite3 connections are not
shared between threads at once); writes are batched in one transaction each.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TypeVar

from onedoor.model import Centre
from services.storage import immediate, in_thread

from .rows import FLAGS, ProjectionRow
from .sql import Statements, watermark_of, watermark_values
from .store import CellQuery, CellRow, Watermark

__all__ = ["SqliteProjection"]

T = TypeVar("T")


class SqliteProjection:
    engine = "sqlite"

    def __init__(self, conn: sqlite3.Connection, flags: Sequence[str] = FLAGS) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()
        self._sql = Statements(lambda i: f"?{i}", flags)

    @classmethod
    async def open(cls, path: str, flags: Sequence[str] = FLAGS) -> SqliteProjection:
        def connect() -> sqlite3.Connection:
            if path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10.0)
            # A projection is rebuilt from the centres, so durability is traded for speed.
            for pragma in ("journal_mode = WAL", "synchronous = NORMAL", "busy_timeout = 10000",
                           "cache_size = -200000", "temp_store = MEMORY"):
                conn.execute(f"PRAGMA {pragma}")
            return conn

        conn = await asyncio.to_thread(connect)
        store = cls(conn, flags)
        await store._run(lambda: immediate(conn, lambda: store._sql.prepare(conn)))
        return store

    async def _run(self, fn: Callable[[], T]) -> T:
        return await in_thread(self._lock, fn)

    async def upsert(self, rows: Sequence[ProjectionRow]) -> None:
        if not rows:
            return
        values = [self._sql.values_of(r) for r in rows]
        keys = [(r.centre.value, r.native_id) for r in rows]
        orgs = self._sql.org_values(list({r.key: r for r in rows}.values()))  # a key's latest row

        def write() -> None:
            self._conn.executemany(self._sql.upsert, values)
            self._conn.executemany(self._sql.org_delete, keys)
            self._conn.executemany(self._sql.org_insert, orgs)

        await self._run(lambda: immediate(self._conn, write))

    async def delete(self, centre: Centre, native_ids: Iterable[str]) -> int:
        pairs = [(centre.value, n) for n in native_ids]
        if not pairs:
            return 0
        def write() -> None:
            self._conn.executemany(self._sql.delete, pairs)
            self._conn.executemany(self._sql.org_delete, pairs)

        await self._run(lambda: immediate(self._conn, write))
        return len(pairs)

    async def count(self, centre: Centre) -> int:
        return int(await self._run(lambda: self._conn.execute(self._sql.count, (centre.value,)).fetchone()[0]))

    async def fingerprints(self, centre: Centre) -> dict[str, str]:
        return dict(await self._run(lambda: self._conn.execute(self._sql.fingerprints, (centre.value,)).fetchall()))

    async def set_watermark(self, mark: Watermark) -> None:
        await self._run(lambda: self._conn.execute(self._sql.set_watermark, watermark_values(mark)))

    async def watermarks(self) -> dict[Centre, Watermark]:
        found = await self._run(lambda: self._conn.execute(self._sql.watermarks).fetchall())
        return {m.centre: m for m in map(watermark_of, found)}

    async def cells(self, query: CellQuery) -> list[CellRow]:
        params, repeat = self._sql.cell_params(query), self._sql.repeat_params(query)

        def both() -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
            return (self._conn.execute(self._sql.cells, params).fetchall(),
                    self._conn.execute(self._sql.repeats, repeat).fetchall())

        plain, repeats = await self._run(both)
        return self._sql.cell_rows(plain, repeats)

    async def overdue(self, prefix: str, as_of: dt.datetime) -> list[ProjectionRow]:
        params = self._sql.overdue_params(prefix, as_of)
        found = await self._run(lambda: self._conn.execute(self._sql.overdue, params).fetchall())
        return [self._sql.row_of(v) for v in found]

    async def rows(self, keys: Sequence[tuple[Centre, str]]) -> dict[tuple[Centre, str], ProjectionRow]:
        def read() -> list[ProjectionRow]:
            found = (self._conn.execute(self._sql.one, (c.value, n)).fetchone() for c, n in keys)
            return [self._sql.row_of(v) for v in found if v is not None]

        return {r.key: r for r in await self._run(read)}

    async def roots(self, prefix: str, start: dt.datetime, end: dt.datetime,
                    centres: Sequence[Centre]) -> list[ProjectionRow]:
        params = self._sql.root_params(prefix, start, end)
        found = await self._run(lambda: self._conn.execute(self._sql.roots, params).fetchall())
        wanted = {c.value for c in centres}
        return [self._sql.row_of(v) for v in found if v[0] in wanted]

    async def organisation_matters(self, org_code: str, prefix: str) -> list[tuple[Centre, str]]:
        params = self._sql.organisation_params(org_code, prefix)
        found = await self._run(lambda: self._conn.execute(self._sql.organisation, params).fetchall())
        return [(Centre(c), n) for c, n, _ in found]

    async def aclose(self) -> None:
        await self._run(self._conn.close)
