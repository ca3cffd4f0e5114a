"""Checkpoints in a table of *another* PostgreSQL database (or one another team owns).

    witness = PostgresWitness("postgresql://witness@ledger-db/ledger?schema=onedoor_witness")

Give the gateway's role ``INSERT`` and ``SELECT`` on ``audit_witness`` and nothing
else; a trigger refuses UPDATE and DELETE even from roles that could. Appends
queue on a session advisory lock (needs no privilege), so gateways
on several hosts number their lines in one sequence.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import asyncpg

from .postgres import split_schema
from .witness import Tail

__all__ = ["PostgresWitness"]

_DDL = """
CREATE TABLE IF NOT EXISTS audit_witness (
    n bigserial PRIMARY KEY, line text NOT NULL, written_at timestamptz NOT NULL DEFAULT now());
CREATE OR REPLACE FUNCTION audit_witness_append_only() RETURNS trigger LANGUAGE plpgsql AS
    $$ BEGIN RAISE EXCEPTION 'the audit witness is append-only'; END $$;
CREATE OR REPLACE TRIGGER audit_witness_append_only BEFORE UPDATE OR DELETE ON audit_witness
    FOR EACH ROW EXECUTE FUNCTION audit_witness_append_only();
"""


class PostgresWitness:
    def __init__(self, url: str) -> None:
        self._dsn, self._schema = split_schema(url, default="onedoor_witness")

    def describe(self) -> str:
        return f"PostgreSQL witness (schema {self._schema})"

    async def _connect(self) -> asyncpg.Connection:
        return await asyncpg.connect(self._dsn, command_timeout=30,
                                     server_settings={"search_path": self._schema})

    @contextlib.asynccontextmanager
    async def appending(self) -> AsyncIterator[Tail]:
        conn = await self._connect()
        try:
            # Session-scoped: each line commits on its own, before whatever the caller does
            # next (a purge must never land before its signed checkpoint); closing unlocks.
            await conn.execute("SELECT pg_advisory_lock(hashtext($1))",
                               f"onedoor_witness:{self._schema}")
            if await conn.fetchval("SELECT to_regclass('audit_witness')") is None:
                # Only where the role may create it: a provisioned table needs no DDL rights.
                async with conn.transaction():
                    await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {self._schema}")
                    await conn.execute(_DDL)
            last = await conn.fetchval("SELECT line FROM audit_witness ORDER BY n DESC LIMIT 1")

            async def write(line: str) -> None:
                await conn.execute("INSERT INTO audit_witness (line) VALUES ($1)", line)

            yield Tail(last, write)
        finally:
            await conn.close()

    async def lines(self) -> list[str] | None:
        conn = await self._connect()
        try:
            if await conn.fetchval("SELECT to_regclass('audit_witness')") is None:
                return None
            return [r["line"] for r in await conn.fetch("SELECT line FROM audit_witness ORDER BY n")]
        finally:
            await conn.close()
