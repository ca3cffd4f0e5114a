# ruff: noqa: S608 - SQL text is built only from checked column names; values travel as parameters.
"""The embedded columnar engine: one DuckDB file, no server (the default; see
docs/operations.md "Which engine" for the measurements behind the choice).

A columnar scan sums a province's matters an order of magnitude faster than
SQLite's row store. DuckDB inserts row by row slowly, so a large batch goes in
as one ``INSERT OR REPLACE … SELECT FROM read_csv`` of a temporary file; a few
rows (a pushed change) go in as parameters. A batch's organisation lines go in
as parallel lists unnested in one statement, in the same transaction. Calls run
in a worker thread under one lock (one connection).
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from onedoor.model import Centre
from services.storage import in_thread

from .rows import FLAGS, ProjectionRow
from .sql import Statements, watermark_of, watermark_values
from .store import CellQuery, CellRow, Watermark

__all__ = ["DuckProjection"]

T = TypeVar("T")
_BULK = 20  # rows from which a batch is loaded through a CSV file (row inserts are slow)
_NULL = "\\N"
# A batch's matter_orgs lines: five parallel lists, unnested side by side.
_ORGS_IN = ("INSERT INTO matter_orgs SELECT unnest($1::VARCHAR[]), unnest($2::VARCHAR[]), unnest($3::VARCHAR[]), "
            "unnest($4::VARCHAR[]), unnest($5::BIGINT[])")
# Keys are matched on the bare native id first: a list lookup over one column is a cheap
# vectorised scan, where building ``centre || chr(31) || native_id`` for every row of a
# million-row table costs a fifth of a second (measured); the pair is checked only on
# the rows that survive.
_ORGS_OUT = ("DELETE FROM matter_orgs WHERE list_contains($2, native_id) "
             "AND list_contains($1, centre || chr(31) || native_id)")


class DuckProjection:
    engine = "duckdb"

    def __init__(self, conn: Any, path: str, flags: Sequence[str] = FLAGS) -> None:
        self._conn = conn
        self._dir = Path(path).parent if path != ":memory:" else Path(tempfile.gettempdir())
        self._lock = asyncio.Lock()
        self._sql = Statements(lambda i: f"${i}", flags)
        types = {"received_at": "BIGINT", "closed_at": "BIGINT", "deadline_at": "BIGINT",
                 **{f: "SMALLINT" for f in self._sql.flags}}
        spec = ", ".join(f"'{c}': '{types.get(c, 'VARCHAR')}'" for c in self._sql.columns)
        self._load = (f"INSERT OR REPLACE INTO matter SELECT * FROM read_csv($1, header=false, nullstr='\\N', "
                      f"delim=',', quote='\"', escape='\"', columns={{{spec}}})")

    @classmethod
    async def open(cls, path: str, flags: Sequence[str] = FLAGS, *, threads: int = 2,
                   memory_limit: str = "1GB") -> DuckProjection:
        def connect() -> Any:
            if path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            try:
                return duckdb.connect(path, config={"threads": threads, "memory_limit": memory_limit})
            except duckdb.IOException as exc:  # one process per DuckDB file
                raise RuntimeError(
                    f"the projection file {path} is open in another process: a DuckDB projection serves one "
                    "gateway process (--workers 1); several processes share a PostgreSQL projection") from exc

        conn = await asyncio.to_thread(connect)
        store = cls(conn, path, flags)
        # No indexes: DuckDB's zone maps serve the range scans.
        await store._run(lambda: store._sql.prepare(conn, indexes=False))
        return store

    async def _run(self, fn: Callable[[], T]) -> T:
        return await in_thread(self._lock, fn)

    def _bulk(self, values: list[tuple[Any, ...]]) -> None:
        fd, name = tempfile.mkstemp(suffix=".csv", dir=self._dir)
        try:
            with os.fdopen(fd, "w", newline="", encoding="utf-8") as out:
                writer = csv.writer(out)
                writer.writerows([_NULL if v is None else v for v in row] for row in values)
            self._conn.execute(self._load, [name])
        finally:
            os.unlink(name)

    def _transaction(self, write: Callable[[], None]) -> None:
        self._conn.begin()
        try:
            write()
        except BaseException:
            self._conn.rollback()
            raise
        self._conn.commit()

    async def upsert(self, rows: Sequence[ProjectionRow]) -> None:
        if not rows:
            return
        latest = {r.key: r for r in rows}  # one statement may not hold a key twice
        values = [self._sql.values_of(r) for r in latest.values()]
        keys = [f"{c.value}\x1f{n}" for c, n in latest]
        orgs = self._sql.org_values(list(latest.values()))

        def write() -> None:
            if len(values) >= _BULK:
                self._bulk(values)
            else:
                self._conn.executemany(self._sql.upsert, values)
            self._conn.execute(_ORGS_OUT, [keys, [n for _, n in latest]])
            if orgs:
                self._conn.execute(_ORGS_IN, [list(column) for column in zip(*orgs, strict=True)])

        await self._run(lambda: self._transaction(write))

    async def delete(self, centre: Centre, native_ids: Iterable[str]) -> int:
        ids = list(native_ids)
        if ids:
            def write() -> None:
                for table in ("matter", "matter_orgs"):
                    self._conn.execute(f"DELETE FROM {table} WHERE centre = $1 AND list_contains($2, native_id)",
                                       [centre.value, ids])

            await self._run(lambda: self._transaction(write))
        return len(ids)

    async def count(self, centre: Centre) -> int:
        found = await self._run(lambda: self._conn.execute(self._sql.count, [centre.value]).fetchone())
        return int(found[0]) if found else 0

    async def fingerprints(self, centre: Centre) -> dict[str, str]:
        found = await self._run(lambda: self._conn.execute(self._sql.fingerprints, [centre.value]).fetchall())
        return dict(found)

    async def set_watermark(self, mark: Watermark) -> None:
        await self._run(lambda: self._conn.execute(self._sql.set_watermark, list(watermark_values(mark))))

    async def watermarks(self) -> dict[Centre, Watermark]:
        found = await self._run(lambda: self._conn.execute(self._sql.watermarks).fetchall())
        return {m.centre: m for m in map(watermark_of, found)}

    async def cells(self, query: CellQuery) -> list[CellRow]:
        params, repeat = list(self._sql.cell_params(query)), list(self._sql.repeat_params(query))

        def both() -> tuple[list[Any], list[Any]]:
            return (self._conn.execute(self._sql.cells, params).fetchall(),
                    self._conn.execute(self._sql.repeats, repeat).fetchall())

        plain, repeats = await self._run(both)
        return self._sql.cell_rows(plain, repeats)

    async def overdue(self, prefix: str, as_of: dt.datetime) -> list[ProjectionRow]:
        params = list(self._sql.overdue_params(prefix, as_of))
        found = await self._run(lambda: self._conn.execute(self._sql.overdue, params).fetchall())
        return [self._sql.row_of(v) for v in found]

    async def rows(self, keys: Sequence[tuple[Centre, str]]) -> dict[tuple[Centre, str], ProjectionRow]:
        if not keys:
            return {}
        cols = ", ".join(self._sql.columns)
        statement = f"SELECT {cols} FROM matter WHERE list_contains($1, native_id)"  # see _ORGS_OUT
        wanted = set(keys)
        ids = sorted({n for _, n in keys})
        found = await self._run(lambda: self._conn.execute(statement, [ids]).fetchall())
        rows = (self._sql.row_of(v) for v in found if (Centre(v[0]), v[1]) in wanted)
        return {r.key: r for r in rows}

    async def roots(self, prefix: str, start: dt.datetime, end: dt.datetime,
                    centres: Sequence[Centre]) -> list[ProjectionRow]:
        params = list(self._sql.root_params(prefix, start, end))
        found = await self._run(lambda: self._conn.execute(self._sql.roots, params).fetchall())
        wanted = {c.value for c in centres}
        return [self._sql.row_of(v) for v in found if v[0] in wanted]

    async def organisation_matters(self, org_code: str, prefix: str) -> list[tuple[Centre, str]]:
        params = list(self._sql.organisation_params(org_code, prefix))
        found = await self._run(lambda: self._conn.execute(self._sql.organisation, params).fetchall())
        return [(Centre(c), n) for c, n, _ in found]

    async def aclose(self) -> None:
        await self._run(self._conn.close)
