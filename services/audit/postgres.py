# ruff: noqa: S608 - SQL text is built only from this module's constants and a schema name
# checked against _SCHEMA_NAME; every value travels as a $n parameter.
"""The audit trail in PostgreSQL (asyncpg), for several gateway processes.

Every append runs in one transaction that first takes ``SELECT … FOR UPDATE``
on the single head row: appends from any number of processes queue on that
row lock, read the true previous hash, and commit record and head together.
A trigger refuses UPDATE on records; retention DELETEs go through
:meth:`purge_older_than`, which leaves an anchor behind.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Mapping
from typing import Any, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg

from .chain import Anchor, ChainState, ChainVerifier, Inspection, PurgePlan, Vouched
from .record import (
    AuditEntry,
    AuditRecord,
    VerifyResult,
    canonical_citizen,
    parse_time,
    record_from_row,
    record_to_row,
    seal,
)
from .store import check_page_size, decode_cursor, encode_cursor

__all__ = ["PostgresAuditStore", "split_schema"]

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_COLUMNS = ("seq", "at", "sub", "client_id", "purpose", "operation_name", "document_hash",
            "citizens", "centres", "unmasked_fields", "decisions", "result_count", "outcome",
            "request_id", "prev_hash", "hash")
_BATCH = 1000
_DDL = """
CREATE TABLE IF NOT EXISTS audit_record (
    seq bigint PRIMARY KEY, at timestamptz NOT NULL, sub text, client_id text, purpose text,
    operation_name text, document_hash text, citizens text NOT NULL, centres text NOT NULL,
    unmasked_fields text NOT NULL, decisions text NOT NULL, result_count integer NOT NULL,
    outcome text NOT NULL, request_id text, prev_hash text NOT NULL, hash text NOT NULL);
CREATE INDEX IF NOT EXISTS audit_record_at ON audit_record (at);
CREATE TABLE IF NOT EXISTS audit_citizen (
    citizen_id text NOT NULL, seq bigint NOT NULL, PRIMARY KEY (citizen_id, seq));
CREATE TABLE IF NOT EXISTS audit_head (
    id integer PRIMARY KEY CHECK (id = 1), seq bigint NOT NULL, hash text NOT NULL);
CREATE TABLE IF NOT EXISTS audit_anchor (
    id integer PRIMARY KEY CHECK (id = 1), seq bigint NOT NULL, hash text NOT NULL,
    last_at timestamptz NOT NULL, purged_at timestamptz NOT NULL);
CREATE TABLE IF NOT EXISTS audit_purge (seq bigint PRIMARY KEY, checkpoint text NOT NULL);
CREATE TABLE IF NOT EXISTS audit_identity (
    id integer PRIMARY KEY CHECK (id = 1), db_id text NOT NULL, created_at timestamptz NOT NULL);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, repeat('0', 64)) ON CONFLICT DO NOTHING;
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS
    $$ BEGIN RAISE EXCEPTION 'audit records are append-only'; END $$;
CREATE OR REPLACE TRIGGER audit_record_append_only BEFORE UPDATE ON audit_record
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
"""


def split_schema(url: str, default: str = "onedoor_audit") -> tuple[str, str]:
    """``postgresql://…?schema=x`` → (DSN without ``schema``, ``x``)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((v for k, v in query if k == "schema"), default)
    if not _SCHEMA_NAME.match(schema):
        raise ValueError(f"invalid schema name {schema!r}")
    rest = urlencode([(k, v) for k, v in query if k != "schema"])
    return urlunsplit(parts._replace(query=rest)), schema


class PostgresAuditStore:
    def __init__(self, pool: Any, schema: str) -> None:
        self._pool = pool
        self._s = schema
        cols = ", ".join(_COLUMNS)
        self._insert = (f"INSERT INTO audit_record ({cols}) VALUES "
                        f"({', '.join(f'${i}' for i in range(1, len(_COLUMNS) + 1))})")
        self._select = f"SELECT {', '.join('r.' + c for c in _COLUMNS)} FROM audit_record r"

    @classmethod
    async def open(cls, url: str, *, create: bool = True) -> PostgresAuditStore:
        dsn, schema = split_schema(url)
        # Unqualified names resolve in the store's own schema on every pooled connection.
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=4, command_timeout=30,
                                         server_settings={"search_path": schema})
        try:
            async with pool.acquire() as conn:
                if create:
                    async with conn.transaction():
                        # Two processes starting together must not race on CREATE … IF NOT EXISTS.
                        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))",
                                           f"onedoor_audit_ddl:{schema}")
                        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
                        await conn.execute(_DDL)
                        # A nonce per database: checkpoints name it, so a swapped database shows.
                        await conn.execute("INSERT INTO audit_identity (id, db_id, created_at) "
                                           "VALUES (1, $1, now()) ON CONFLICT DO NOTHING",
                                           secrets.token_hex(16))
                elif await conn.fetchval("SELECT to_regclass('audit_head')") is None:
                    raise LookupError(f"no audit tables in schema {schema}")
        except BaseException:
            await pool.close()
            raise
        return cls(pool, schema)

    async def append(self, entry: AuditEntry) -> AuditRecord:
        async with self._pool.acquire() as conn, conn.transaction():
            head = await conn.fetchrow(
                "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE")
            record = seal(entry, head["seq"] + 1, dt.datetime.now(dt.UTC), head["hash"])
            row = record_to_row(record) | {"at": record.at}
            await conn.execute(self._insert, *(row[c] for c in _COLUMNS))
            await conn.executemany(
                "INSERT INTO audit_citizen (citizen_id, seq) VALUES ($1, $2)",
                [(c, record.seq) for c in record.citizens])
            await conn.execute("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1",
                               record.seq, record.hash)
            return record

    async def query(
        self,
        citizen_id: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> tuple[list[AuditRecord], str | None]:
        params: list[object] = [decode_cursor(after)]
        sql, where = self._select, ["r.seq > $1"]
        if citizen_id is not None:
            params.append(canonical_citizen(citizen_id))
            sql += (f" JOIN audit_citizen c ON c.seq = r.seq"
                    f" AND c.citizen_id = ${len(params)}")
        for value, op in ((since, ">="), (until, "<")):
            if value is not None:
                params.append(value)
                where.append(f"r.at {op} ${len(params)}")
        params.append(check_page_size(first) + 1)
        sql += f" WHERE {' AND '.join(where)} ORDER BY r.seq LIMIT ${len(params)}"
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(sql, *params)
        records = [record_from_row(row) for row in rows]
        more = len(records) > first
        records = records[:first]
        return records, (encode_cursor(records[-1].seq) if more else None)

    async def verify(self) -> VerifyResult:
        return (await self.inspect()).result

    async def inspect(self, expected: Mapping[int, Vouched] | None = None) -> Inspection:
        async with self._pool.acquire() as conn, conn.transaction(isolation="repeatable_read",
                                                                  readonly=True):
            state = await self._state(conn)
            verifier = ChainVerifier(state.anchor, expected)
            last = state.anchor.seq
            while True:
                rows = await conn.fetch(f"{self._select} WHERE r.seq > $1 ORDER BY r.seq LIMIT $2",
                                        last, _BATCH)
                records = [record_from_row(row) for row in rows]
                if not all(verifier.feed(r) for r in records):
                    break
                if records:
                    index = await conn.fetch("SELECT citizen_id, seq FROM audit_citizen "
                                             "WHERE seq BETWEEN $1 AND $2",
                                             records[0].seq, records[-1].seq)
                    verifier.index((r["citizen_id"], r["seq"]) for r in index)
                    last = records[-1].seq
                if len(rows) < _BATCH:
                    break
            stray = await conn.fetch("SELECT seq FROM audit_citizen WHERE seq <= $1 OR seq > $2",
                                     state.anchor.seq, last)
            verifier.stray_index(r["seq"] for r in stray)
            return Inspection(state, verifier.finish(state.head))

    async def state(self) -> ChainState:
        async with self._pool.acquire() as conn, conn.transaction(isolation="repeatable_read",
                                                                  readonly=True):
            return await self._state(conn)

    @staticmethod
    async def _state(conn: Any) -> ChainState:
        head = await conn.fetchrow("SELECT seq, hash FROM audit_head WHERE id = 1")
        anchor = await conn.fetchrow("SELECT seq, hash FROM audit_anchor WHERE id = 1")
        identity = note = None
        if await conn.fetchval("SELECT to_regclass('audit_identity')") is not None:
            identity = await conn.fetchval("SELECT db_id FROM audit_identity WHERE id = 1")
        if anchor and await conn.fetchval("SELECT to_regclass('audit_purge')") is not None:
            note = await conn.fetchval("SELECT checkpoint FROM audit_purge WHERE seq = $1",
                                       anchor["seq"])
        return ChainState(identity=identity or "",
                          head=Anchor(head["seq"], head["hash"]) if head else Anchor(0, "missing"),
                          anchor=Anchor(anchor["seq"], anchor["hash"]) if anchor else Anchor(),
                          anchor_checkpoint=note)

    async def hash_at(self, seq: int) -> str | None:
        async with self._pool.acquire() as conn:
            value = await conn.fetchval("SELECT hash FROM audit_record WHERE seq = $1", seq)
        return None if value is None else str(value)

    async def purge_older_than(self, cutoff: dt.datetime) -> int:
        plan = await self.plan_purge(cutoff)
        return 0 if plan is None else await self.purge_through(plan.anchor)

    async def plan_purge(self, cutoff: dt.datetime) -> PurgePlan | None:
        async with self._pool.acquire() as conn, conn.transaction(isolation="repeatable_read",
                                                                  readonly=True):
            keep_from = await conn.fetchval(
                "SELECT coalesce(min(seq), (SELECT seq + 1 FROM audit_head)) "
                "FROM audit_record WHERE at >= $1", cutoff)
            last = await conn.fetchrow("SELECT seq, hash, at FROM audit_record WHERE seq = $1",
                                       keep_from - 1)
            if last is None:
                return None
            first = await conn.fetchval("SELECT min(seq) FROM audit_record")
            return PurgePlan(first=first, anchor=Anchor(last["seq"], last["hash"]),
                             last_at=parse_time(last["at"]))

    async def purge_through(self, anchor: Anchor, checkpoint: str | None = None) -> int:
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT 1 FROM audit_head WHERE id = 1 FOR UPDATE")
            last = await conn.fetchrow("SELECT hash, at FROM audit_record WHERE seq = $1",
                                       anchor.seq)
            if last is None:
                return 0  # already purged (another process, or an earlier attempt)
            if last["hash"] != anchor.hash:
                raise RuntimeError(f"audit record {anchor.seq} is not the one planned for purging")
            await conn.execute(
                "INSERT INTO audit_anchor (id, seq, hash, last_at, purged_at) "
                "VALUES (1, $1, $2, $3, now()) ON CONFLICT (id) DO UPDATE SET seq = $1, "
                "hash = $2, last_at = $3, purged_at = now()", anchor.seq, anchor.hash, last["at"])
            if checkpoint is not None:
                await conn.execute("INSERT INTO audit_purge (seq, checkpoint) VALUES ($1, $2) "
                                   "ON CONFLICT (seq) DO UPDATE SET checkpoint = $2",
                                   anchor.seq, checkpoint)
            await conn.execute("DELETE FROM audit_citizen WHERE seq <= $1", anchor.seq)
            status = await conn.execute("DELETE FROM audit_record WHERE seq <= $1", anchor.seq)
            return int(cast(str, status).split()[-1])

    async def writable(self) -> bool:
        try:
            async with self._pool.acquire() as conn:
                return bool(await conn.fetchval(
                    "SELECT NOT pg_is_in_recovery() AND has_table_privilege($1, 'INSERT')",
                    "audit_record"))
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            return False

    async def aclose(self) -> None:
        await self._pool.close()
