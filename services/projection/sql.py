# ruff: noqa: S608 - SQL text is built only from this module's constants and checked column names;
# values travel as parameters.
"""The SQL every engine shares: the matter table, its organisation index, the
watermark table, the queries.

Instants are epoch microseconds (``bigint``) everywhere, so the engines compare
the same numbers; the region prefix is an index range (:func:`~.store.prefix_bounds`).
``mark`` spells the n-th parameter (``?n`` for SQLite, ``$n`` for PostgreSQL).

``matter_orgs`` holds one line per (matter, organisation credit code) with the
matter's region and registration time, so ``organisation(creditCode:)`` is an index
range with the region prefix inside it. Each engine replaces a matter's lines in
the same transaction as the matter (and deletes them with it); the matter's own
``orgs`` column keeps the codes too, so a row reads back whole and its fingerprint
covers them.

The KPI flag columns are the caller's (the KPI definitions live above this
layer); the table's *layout* — those columns and :data:`LAYOUT` — is recorded,
and a store opened with another layout starts empty: a projection is rebuilt
from the centres, never migrated.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Sequence
from typing import Any

from onedoor.model import Centre, MatterStatus

from .rows import (
    ProjectionRow,
    decode_deadlines,
    decode_links,
    decode_orgs,
    encode_deadlines,
    encode_links,
    encode_orgs,
    from_us,
    to_us,
)
from .store import CellQuery, CellRow, Watermark, prefix_bounds

__all__ = ["LAYOUT", "OPEN", "ORG_COLUMNS", "Statements", "watermark_of", "watermark_values"]

LAYOUT = "matter-v2"  # bump when a column's meaning changes
OPEN = tuple(s.value for s in (MatterStatus.REGISTERED, MatterStatus.ACCEPTED, MatterStatus.IN_PROGRESS,
                                MatterStatus.TRANSFERRED))
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
_HEAD = ("centre", "native_id", "reference", "kind", "category", "region_code", "status", "centre_status",
         "received_at", "month", "closed_at", "deadlines", "deadline_at")
_TAIL = ("person", "links", "orgs", "fingerprint")
ORG_COLUMNS = ("centre", "native_id", "org_code", "region_code", "received_at")
_TYPES = {"received_at": "bigint NOT NULL", "closed_at": "bigint", "deadline_at": "bigint", "person": "text"}


class Statements:
    """The table's columns and statements, spelled for one engine's parameter marks."""

    def __init__(self, mark: Callable[[int], str], flags: Sequence[str]) -> None:
        if not all(_NAME.match(f) for f in flags) or set(flags) & {*_HEAD, *_TAIL}:
            raise ValueError("flag columns are lower-case names of their own")
        self.flags = tuple(flags)
        self.columns = (*_HEAD, *self.flags, *_TAIL)
        self.layout = hashlib.sha256(f"{LAYOUT}:{','.join(self.columns)}".encode()).hexdigest()[:16]
        cols = ", ".join(self.columns)
        marks = ", ".join(mark(i + 1) for i in range(len(self.columns)))
        updates = ", ".join(f"{c} = excluded.{c}" for c in self.columns[2:])
        self.upsert = (f"INSERT INTO matter ({cols}) VALUES ({marks}) "
                       f"ON CONFLICT (centre, native_id) DO UPDATE SET {updates}")
        types = {**_TYPES, **{f: "smallint NOT NULL" for f in self.flags}}
        self.meta = [
            "CREATE TABLE IF NOT EXISTS projection_meta (name text PRIMARY KEY, value text NOT NULL)",
        ]
        self.get_layout = "SELECT value FROM projection_meta WHERE name = 'layout'"
        self.set_layout = (f"INSERT INTO projection_meta (name, value) VALUES ('layout', {mark(1)}) "
                           "ON CONFLICT (name) DO UPDATE SET value = excluded.value")
        self.drop = ["DROP TABLE IF EXISTS matter", "DROP TABLE IF EXISTS watermark",
                     "DROP TABLE IF EXISTS matter_orgs"]
        self.ddl = [
            "CREATE TABLE IF NOT EXISTS matter (" + ", ".join(
                f"{c} {types.get(c, 'text NOT NULL')}" for c in self.columns) + ", PRIMARY KEY (centre, native_id))",
            "CREATE INDEX IF NOT EXISTS matter_region_received ON matter (region_code, received_at)",
            "CREATE INDEX IF NOT EXISTS matter_deadline ON matter (deadline_at)",
            "CREATE TABLE IF NOT EXISTS watermark (centre text PRIMARY KEY, style text NOT NULL, "
            "as_of bigint, cursor text, row_count bigint NOT NULL, error text)",
            # No key: a matter's lines are deleted and written again with it (DuckDB checks
            # a key against rows deleted in the same transaction).
            "CREATE TABLE IF NOT EXISTS matter_orgs (centre text NOT NULL, native_id text NOT NULL, "
            "org_code text NOT NULL, region_code text NOT NULL, received_at bigint NOT NULL)",
            "CREATE INDEX IF NOT EXISTS matter_orgs_code ON matter_orgs (org_code, region_code)",
            "CREATE INDEX IF NOT EXISTS matter_orgs_matter ON matter_orgs (centre, native_id)",
        ]
        self.set_watermark = (
            f"INSERT INTO watermark (centre, style, as_of, cursor, row_count, error) VALUES "
            f"({mark(1)}, {mark(2)}, {mark(3)}, {mark(4)}, {mark(5)}, {mark(6)}) ON CONFLICT (centre) DO UPDATE SET "
            "style = excluded.style, as_of = excluded.as_of, cursor = excluded.cursor, "
            "row_count = excluded.row_count, error = excluded.error")
        self.watermarks = "SELECT centre, style, as_of, cursor, row_count, error FROM watermark"
        self.fingerprints = f"SELECT native_id, fingerprint FROM matter WHERE centre = {mark(1)}"
        self.delete = f"DELETE FROM matter WHERE centre = {mark(1)} AND native_id = {mark(2)}"
        self.count = f"SELECT count(*) FROM matter WHERE centre = {mark(1)}"
        where = (f"region_code >= {mark(2)} AND region_code < {mark(3)} "
                 f"AND received_at >= {mark(4)} AND received_at <= {mark(5)}")
        sums = ", ".join(f"sum({f})" for f in self.flags)
        # Open at the as-of moment with a deadline already missed (``ProjectionRow.overdue_from``).
        late = (f"sum(CASE WHEN deadline_at < {mark(6)} AND (closed_at IS NULL OR closed_at > {mark(6)}) "
                "THEN 1 ELSE 0 END)")
        self.cells = (f"SELECT centre, category, month, substr(region_code, 1, {mark(1)}) AS region, count(*), "
                      f"{late}, {sums} FROM matter WHERE {where} GROUP BY centre, category, month, region")
        self.repeats = (
            f"SELECT category, month, region, count(*) FROM (SELECT category, month, "
            f"substr(region_code, 1, {mark(1)}) AS region, row_number() OVER "
            "(PARTITION BY person, category ORDER BY received_at, native_id) AS nth "
            f"FROM matter WHERE centre = 'PETITIONS' AND person IS NOT NULL AND {where}) AS p "
            "WHERE nth > 1 GROUP BY category, month, region")
        open_marks = ", ".join(f"'{s}'" for s in OPEN)
        self.overdue = (f"SELECT {cols} FROM matter WHERE region_code >= {mark(1)} AND region_code < {mark(2)} "
                        f"AND deadline_at < {mark(3)} AND status IN ({open_marks}) "
                        f"AND (closed_at IS NULL OR closed_at > {mark(3)})")
        self.roots = (f"SELECT {cols} FROM matter WHERE region_code >= {mark(1)} AND region_code < {mark(2)} "
                      f"AND received_at >= {mark(3)} AND received_at <= {mark(4)} AND links <> '[]'")
        self.one = f"SELECT {cols} FROM matter WHERE centre = {mark(1)} AND native_id = {mark(2)}"
        self.org_insert = (f"INSERT INTO matter_orgs ({', '.join(ORG_COLUMNS)}) VALUES "
                           f"({', '.join(mark(i + 1) for i in range(len(ORG_COLUMNS)))})")
        self.org_delete = f"DELETE FROM matter_orgs WHERE centre = {mark(1)} AND native_id = {mark(2)}"
        # Newest first, then the global order's tie-break (centre, native id descending).
        self.organisation = (f"SELECT DISTINCT centre, native_id, received_at FROM matter_orgs "
                             f"WHERE org_code = {mark(1)} AND region_code >= {mark(2)} AND region_code < {mark(3)} "
                             "ORDER BY received_at DESC, centre, native_id DESC")

    def prepare(self, conn: Any, *, indexes: bool = True) -> None:
        """Create the tables on a DB-API connection (SQLite, DuckDB); a store written in
        another layout is dropped first — a projection is rebuilt from the centres."""
        for statement in self.meta:
            conn.execute(statement)
        found = conn.execute(self.get_layout).fetchone()
        if found is None or found[0] != self.layout:
            for statement in self.drop:
                conn.execute(statement)
        for statement in self.ddl:
            if indexes or not statement.startswith("CREATE INDEX"):
                conn.execute(statement)
        conn.execute(self.set_layout, [self.layout])

    def upsert_from(self, table: str) -> str:
        """Every row of ``table`` (same columns) into ``matter``, replacing by key."""
        if not _NAME.match(table):
            raise ValueError("a table name")
        cols = ", ".join(self.columns)
        updates = ", ".join(f"{c} = excluded.{c}" for c in self.columns[2:])
        return (f"INSERT INTO matter ({cols}) SELECT {cols} FROM {table} "
                f"ON CONFLICT (centre, native_id) DO UPDATE SET {updates}")

    # -- rows <-> values ----------------------------------------------------
    def values_of(self, row: ProjectionRow) -> tuple[Any, ...]:
        return (row.centre.value, row.native_id, row.reference, row.kind, row.category, row.region_code,
                row.status.value, row.centre_status, to_us(row.received_at), row.month,
                None if row.closed_at is None else to_us(row.closed_at), encode_deadlines(row.deadlines),
                None if (due := row.overdue_from) is None else to_us(due),
                *(int(row.flags.get(f, 0)) for f in self.flags), row.person, encode_links(row.links),
                encode_orgs(row.orgs), row.fingerprint())

    def row_of(self, v: Sequence[Any]) -> ProjectionRow:
        n = len(self.flags)
        return ProjectionRow(
            centre=Centre(v[0]), native_id=v[1], reference=v[2], kind=v[3], category=v[4], region_code=v[5],
            status=MatterStatus(v[6]), centre_status=v[7], received_at=from_us(v[8]), month=v[9],
            closed_at=None if v[10] is None else from_us(v[10]), deadlines=decode_deadlines(v[11]),
            flags=dict(zip(self.flags, (int(x) for x in v[13:13 + n]), strict=True)), person=v[13 + n],
            links=decode_links(v[14 + n]), orgs=decode_orgs(v[15 + n]))

    def cell_rows(self, plain: Sequence[Sequence[Any]], repeats: Sequence[Sequence[Any]]) -> list[CellRow]:
        """Combine the grouped sums with the repeat-petition counts (same group key)."""
        repeat = {(r[0], r[1], r[2]): int(r[3]) for r in repeats}
        out = []
        for r in plain:
            petitions = r[0] == Centre.PETITIONS.value
            counts = {"registered": int(r[4]), "overdue_open": int(r[5] or 0),
                      **{f: int(x or 0) for f, x in zip(self.flags, r[6:], strict=True)},
                      "repeat_petitions": repeat.get((r[1], r[2], r[3]), 0) if petitions else 0}
            out.append(CellRow(Centre(r[0]), r[1], r[2], r[3], counts))
        return out

    @staticmethod
    def org_values(rows: Sequence[ProjectionRow]) -> list[tuple[Any, ...]]:
        """The ``matter_orgs`` lines of ``rows`` (:data:`ORG_COLUMNS`)."""
        return [(r.centre.value, r.native_id, code, r.region_code, to_us(r.received_at))
                for r in rows for code in r.orgs]

    # -- parameters ---------------------------------------------------------
    def cell_params(self, q: CellQuery) -> tuple[Any, ...]:
        low, high = prefix_bounds(q.prefix)
        as_of = q.as_of or dt.datetime.now(dt.UTC)
        return (q.digits, low, high, to_us(q.start), to_us(q.end), to_us(as_of))

    def repeat_params(self, q: CellQuery) -> tuple[Any, ...]:
        return self.cell_params(q)[:5]

    def overdue_params(self, prefix: str, as_of: dt.datetime) -> tuple[Any, ...]:
        low, high = prefix_bounds(prefix)
        return (low, high, to_us(as_of))

    def organisation_params(self, org_code: str, prefix: str) -> tuple[Any, ...]:
        low, high = prefix_bounds(prefix)
        return (org_code, low, high)

    def root_params(self, prefix: str, start: dt.datetime, end: dt.datetime) -> tuple[Any, ...]:
        low, high = prefix_bounds(prefix)
        return (low, high, to_us(start), to_us(end))


def watermark_values(mark: Watermark) -> tuple[Any, ...]:
    return (mark.centre.value, mark.style, None if mark.as_of is None else to_us(mark.as_of), mark.cursor,
            mark.rows, mark.error)


def watermark_of(v: Sequence[Any]) -> Watermark:
    return Watermark(Centre(v[0]), v[1], None if v[2] is None else from_us(v[2]), v[3], int(v[4]), v[5])
