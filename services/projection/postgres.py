"""The shared engine: PostgreSQL (asyncpg), for replicas that share one projection.

Same table and queries as the embedded engine (:mod:`.sql`); the schema comes
from the URL (``?schema=onedoor_projection`` by default).

Three things keep a province's ``statistics`` under a second (1,000,000 rows,
benchmarks/results): after every large write (:data:`_ANALYSE_AFTER`) this
store runs ``VACUUM (ANALYZE)`` itself instead of waiting for autovacuum —
right after a load the planner otherwise believes the table holds a few rows
and walks the region index into an on-disk sort (1.2 s instead of 0.35 s,
measured), and the first scans would still be setting hint bits on every new
page; the analytic queries get the memory to hash and sort in RAM (``SET LOCAL
work_mem``, that transaction only) and a plan made for their values each time
(``plan_cache_mode``: a prepared statement's generic plan cannot see how wide a
region and period are); and a period's sums and its repeat
petitions run at once on two connections.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import asyncpg

from onedoor.model import Centre

from ..audit.postgres import split_schema
from .rows import FLAGS, ProjectionRow
from .sql import ORG_COLUMNS, Statements, watermark_of, watermark_values
from .store import CellQuery, CellRow, Watermark

__all__ = ["PostgresProjection"]

_BULK = 200  # rows from which a batch is copied
_ANALYSE_AFTER = 20_000  # rows written since the last ANALYZE (and at least a tenth of the table)
_ANALYTIC_WORK_MEM = "64MB"  # per sort or hash of one analytic query (the pool holds four connections)
_ORGS_OUT = ("DELETE FROM matter_orgs o USING unnest($1::text[], $2::text[]) AS k(c, n) "
             "WHERE o.centre = k.c AND o.native_id = k.n")


class PostgresProjection:
    engine = "postgresql"

    def __init__(self, pool: Any, flags: Sequence[str] = FLAGS) -> None:
        self._pool = pool
        self._sql = Statements(lambda i: f"${i}", flags)
        self._written = 0  # rows upserted since the last ANALYZE
        self._analysed = 0  # the table's rows at the last ANALYZE
        self.analyses = 0  # how many this store ran (observable)

    @classmethod
    async def open(cls, url: str, flags: Sequence[str] = FLAGS) -> PostgresProjection:
        if "schema=" not in url:
            url += ("&" if "?" in url else "?") + "schema=onedoor_projection"
        dsn, schema = split_schema(url)
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=4, command_timeout=120,
                                         server_settings={"search_path": schema})
        store = cls(pool, flags)
        sql = store._sql
        try:
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"onedoor_projection_ddl:{schema}")
                await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
                for statement in sql.meta:
                    await conn.execute(statement)
                if await conn.fetchval(sql.get_layout) != sql.layout:  # another layout: start empty
                    for statement in sql.drop:
                        await conn.execute(statement)
                for statement in sql.ddl:
                    await conn.execute(statement)
                await conn.execute(sql.set_layout, sql.layout)
        except BaseException:
            await pool.close()
            raise
        return store

    async def upsert(self, rows: Sequence[ProjectionRow]) -> None:
        """A few rows as parameters; a large batch through ``COPY`` into a temporary table,
        then one ``INSERT … ON CONFLICT`` (an order of magnitude faster for a load). The
        batch's ``matter_orgs`` lines are replaced in the same transaction."""
        if not rows:
            return
        latest = {r.key: r for r in rows}  # one INSERT may not touch a key twice
        values = [self._sql.values_of(r) for r in latest.values()]
        orgs = self._sql.org_values(list(latest.values()))
        async with self._pool.acquire() as conn, conn.transaction():
            if len(values) < _BULK:
                await conn.executemany(self._sql.upsert, values)
            else:
                await conn.execute(
                    "CREATE TEMP TABLE IF NOT EXISTS matter_stage (LIKE matter) ON COMMIT DELETE ROWS")
                await conn.copy_records_to_table("matter_stage", records=values, columns=list(self._sql.columns))
                await conn.execute(self._sql.upsert_from("matter_stage"))
            await conn.execute(_ORGS_OUT, [c.value for c, _ in latest], [n for _, n in latest])
            if len(orgs) < _BULK:
                await conn.executemany(self._sql.org_insert, orgs)
            else:
                await conn.copy_records_to_table("matter_orgs", records=orgs, columns=list(ORG_COLUMNS))
        self._written += len(values)
        if self._written >= max(_ANALYSE_AFTER, self._analysed // 10):
            await self.analyse()

    async def analyse(self) -> None:
        """Vacuum and refresh the planner's statistics of both tables (after a bulk write:
        only the pages written since are visited; outside any transaction, as VACUUM must)."""
        self._written = 0
        async with self._pool.acquire() as conn:
            await conn.execute("VACUUM (ANALYZE) matter, matter_orgs")
            self._analysed = int(await conn.fetchval(
                "SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = 'matter'::regclass"))
        self.analyses += 1

    async def delete(self, centre: Centre, native_ids: Iterable[str]) -> int:
        ids = list(native_ids)
        if ids:
            async with self._pool.acquire() as conn, conn.transaction():
                for statement in ("DELETE FROM matter WHERE centre = $1 AND native_id = ANY($2::text[])",
                                  "DELETE FROM matter_orgs WHERE centre = $1 AND native_id = ANY($2::text[])"):
                    await conn.execute(statement, centre.value, ids)
        return len(ids)

    async def count(self, centre: Centre) -> int:
        async with self._pool.acquire() as conn:
            return int(await conn.fetchval(self._sql.count, centre.value))

    async def fingerprints(self, centre: Centre) -> dict[str, str]:
        async with self._pool.acquire() as conn:
            return {r[0]: r[1] for r in await conn.fetch(self._sql.fingerprints, centre.value)}

    async def set_watermark(self, mark: Watermark) -> None:
        async with self._pool.acquire() as conn:
            await conn.execute(self._sql.set_watermark, *watermark_values(mark))

    async def watermarks(self) -> dict[Centre, Watermark]:
        async with self._pool.acquire() as conn:
            found = await conn.fetch(self._sql.watermarks)
        return {m.centre: m for m in (watermark_of(tuple(r)) for r in found)}

    async def cells(self, query: CellQuery) -> list[CellRow]:
        plain, repeats = await asyncio.gather(self._analytic(self._sql.cells, self._sql.cell_params(query)),
                                              self._analytic(self._sql.repeats, self._sql.repeat_params(query)))
        return self._sql.cell_rows(plain, repeats)

    async def _analytic(self, statement: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        """A province-wide query. asyncpg prepares statements, and after five runs PostgreSQL
        may switch to a generic plan that cannot see how wide the region and period are (it
        walks the region index into a sort: seconds instead of a parallel scan): the plan is
        made for these values each time. Hash and sort in RAM."""
        async with self._pool.acquire() as conn, conn.transaction(readonly=True):
            await conn.execute(f"SET LOCAL work_mem = '{_ANALYTIC_WORK_MEM}'; "
                               "SET LOCAL plan_cache_mode = force_custom_plan")
            return [tuple(r) for r in await conn.fetch(statement, *params)]

    async def overdue(self, prefix: str, as_of: dt.datetime) -> list[ProjectionRow]:
        found = await self._analytic(self._sql.overdue, self._sql.overdue_params(prefix, as_of))
        return [self._sql.row_of(r) for r in found]

    async def rows(self, keys: Sequence[tuple[Centre, str]]) -> dict[tuple[Centre, str], ProjectionRow]:
        if not keys:
            return {}
        async with self._pool.acquire() as conn:
            found = await conn.fetch(
                "SELECT m.* FROM matter m JOIN unnest($1::text[], $2::text[]) AS k(c, n) "
                "ON m.centre = k.c AND m.native_id = k.n", [c.value for c, _ in keys], [n for _, n in keys])
        rows = [self._sql.row_of(tuple(r)) for r in found]
        return {r.key: r for r in rows}

    async def roots(self, prefix: str, start: dt.datetime, end: dt.datetime,
                    centres: Sequence[Centre]) -> list[ProjectionRow]:
        async with self._pool.acquire() as conn:
            found = await conn.fetch(self._sql.roots, *self._sql.root_params(prefix, start, end))
        wanted = {c.value for c in centres}
        return [self._sql.row_of(tuple(r)) for r in found if r[0] in wanted]

    async def organisation_matters(self, org_code: str, prefix: str) -> list[tuple[Centre, str]]:
        async with self._pool.acquire() as conn:
            found = await conn.fetch(self._sql.organisation, *self._sql.organisation_params(org_code, prefix))
        return [(Centre(r[0]), r[1]) for r in found]

    async def aclose(self) -> None:
        await self._pool.close()
