# ruff: noqa: S608 - SQL text is built only from this module's constants and a checked schema
# name; every value travels as a $n parameter.
"""Submissions in PostgreSQL (asyncpg), for several gateway processes.

``INSERT … ON CONFLICT DO NOTHING`` makes a claim atomic; a lease is one
conditional ``UPDATE``, so of many processes retrying one key exactly one
calls the centre.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg

from ..audit.postgres import split_schema
from .sqlite import COLUMNS
from .store import Submission

__all__ = ["PostgresSubmissionStore"]

_DDL = """
CREATE TABLE IF NOT EXISTS submission (
    key text PRIMARY KEY, receipt text NOT NULL UNIQUE, fingerprint text NOT NULL,
    owner text NOT NULL, applicant_id text NOT NULL, region_code text NOT NULL,
    centre text NOT NULL, rule_id text NOT NULL, draft text NOT NULL, state text NOT NULL,
    native_id text, error text, source text, lease_until timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX IF NOT EXISTS submission_state ON submission (state);
"""
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM submission"


def _row(row: Any) -> Submission | None:
    return None if row is None else Submission(**{c: row[c] for c in COLUMNS})


class PostgresSubmissionStore:
    def __init__(self, pool: Any) -> None:
        self._pool = pool

    @classmethod
    async def open(cls, url: str) -> PostgresSubmissionStore:
        if "schema=" not in url:
            url += ("&" if "?" in url else "?") + "schema=onedoor_submissions"
        dsn, schema = split_schema(url)
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=4, command_timeout=30,
                                         server_settings={"search_path": schema})
        try:
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))",
                                   f"onedoor_submissions_ddl:{schema}")
                await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
                await conn.execute(_DDL)
        except BaseException:
            await pool.close()
            raise
        return cls(pool)

    async def claim(self, submission: Submission) -> tuple[Submission, bool]:
        values = [getattr(submission, c) for c in COLUMNS]
        placeholders = ", ".join(f"${i}" for i in range(1, len(values) + 1))
        async with self._pool.acquire() as conn:
            inserted = await conn.fetchval(
                f"INSERT INTO submission ({', '.join(COLUMNS)}) VALUES ({placeholders}) "
                "ON CONFLICT (key) DO NOTHING RETURNING key", *values)
            if inserted is not None:
                return submission, True
            stored = _row(await conn.fetchrow(f"{_SELECT} WHERE key = $1", submission.key))
        assert stored is not None  # a conflicting row exists; rows are never deleted
        return stored, False

    async def lease(self, key: str, until: dt.datetime) -> bool:
        async with self._pool.acquire() as conn:
            status = await conn.execute(
                "UPDATE submission SET lease_until = $1 WHERE key = $2 AND state IN "
                "('pending', 'failed', 'created') AND (lease_until IS NULL OR lease_until < now())",
                until, key)
        return bool(status == "UPDATE 1")

    async def release(self, key: str, until: dt.datetime) -> None:
        async with self._pool.acquire() as conn:
            await conn.execute("UPDATE submission SET lease_until = NULL WHERE key = $1 "
                               "AND lease_until = $2", key, until)

    async def _set(self, key: str, sql: str, *args: object) -> None:
        async with self._pool.acquire() as conn:
            await conn.execute(f"UPDATE submission SET {sql}, updated_at = now() "
                               f"WHERE key = ${len(args) + 1}", *args, key)

    async def mark_created(self, key: str, native_id: str) -> None:
        await self._set(key, "state = 'created', native_id = $1, error = NULL", native_id)

    async def mark_done(self, key: str) -> None:
        await self._set(key, "state = 'done', draft = '{}', lease_until = NULL")

    async def mark_failed(self, key: str, error: str) -> None:
        await self._set(key, "state = 'failed', error = $1, lease_until = NULL", error)

    async def _one(self, column: str, value: str) -> Submission | None:
        async with self._pool.acquire() as conn:
            return _row(await conn.fetchrow(f"{_SELECT} WHERE {column} = $1", value))

    async def get(self, key: str) -> Submission | None:
        return await self._one("key", key)

    async def by_receipt(self, receipt: str) -> Submission | None:
        return await self._one("receipt", receipt)

    async def unfinished(self) -> list[Submission]:
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(f"{_SELECT} WHERE state IN ('pending', 'created') "
                                    "ORDER BY updated_at")
        return [s for s in map(_row, rows) if s is not None]

    async def count(self) -> int:
        async with self._pool.acquire() as conn:
            return int(await conn.fetchval("SELECT count(*) FROM submission"))

    async def aclose(self) -> None:
        await self._pool.close()
