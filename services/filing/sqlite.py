# ruff: noqa: S608 - SQL text is built only from this module's column constants.
"""Submissions in one SQLite file (WAL): the demo and single-host default.

One connection used from worker threads under an asyncio lock; ``BEGIN
IMMEDIATE`` makes claim and lease atomic across processes sharing the file.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

from ..storage import connect_durable, immediate, in_thread
from .store import Submission

__all__ = ["COLUMNS", "SqliteSubmissionStore"]

T = TypeVar("T")
COLUMNS = ("key", "receipt", "fingerprint", "owner", "applicant_id", "region_code", "centre",
           "rule_id", "draft", "state", "native_id", "error", "source", "lease_until")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS submission (
    key TEXT PRIMARY KEY, receipt TEXT NOT NULL UNIQUE, fingerprint TEXT NOT NULL,
    owner TEXT NOT NULL, applicant_id TEXT NOT NULL, region_code TEXT NOT NULL,
    centre TEXT NOT NULL, rule_id TEXT NOT NULL, draft TEXT NOT NULL, state TEXT NOT NULL,
    native_id TEXT, error TEXT, source TEXT, lease_until TEXT,
    updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);
CREATE INDEX IF NOT EXISTS submission_state ON submission (state);
"""
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM submission"


def _row(row: tuple[Any, ...] | None) -> Submission | None:
    if row is None:
        return None
    values = dict(zip(COLUMNS, row, strict=True))
    if values["lease_until"] is not None:
        values["lease_until"] = dt.datetime.fromisoformat(values["lease_until"])
    return Submission(**values)


class SqliteSubmissionStore:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str) -> SqliteSubmissionStore:
        return cls(await asyncio.to_thread(_connect, path))

    async def _run(self, fn: Callable[[], T]) -> T:
        return await in_thread(self._lock, immediate, self._conn, fn)

    async def claim(self, submission: Submission) -> tuple[Submission, bool]:
        def run() -> tuple[Submission, bool]:
            existing = _row(self._conn.execute(f"{_SELECT} WHERE key = ?",
                                               (submission.key,)).fetchone())
            if existing is not None:
                return existing, False
            values = [getattr(submission, c) for c in COLUMNS]
            values[-1] = submission.lease_until.isoformat() if submission.lease_until else None
            self._conn.execute(f"INSERT INTO submission ({', '.join(COLUMNS)}) VALUES "
                               f"({', '.join('?' for _ in COLUMNS)})", values)
            return submission, True

        return await self._run(run)

    async def lease(self, key: str, until: dt.datetime) -> bool:
        now = dt.datetime.now(dt.UTC).isoformat()
        sql = ("UPDATE submission SET lease_until = ? WHERE key = ? AND state IN ('pending', "
               "'failed', 'created') AND (lease_until IS NULL OR lease_until < ?)")
        return await self._run(
            lambda: self._conn.execute(sql, (until.isoformat(), key, now)).rowcount == 1)

    async def release(self, key: str, until: dt.datetime) -> None:
        sql = "UPDATE submission SET lease_until = NULL WHERE key = ? AND lease_until = ?"
        await self._run(lambda: self._conn.execute(sql, (key, until.isoformat())))

    async def _set(self, key: str, sql: str, *args: object) -> None:
        await self._run(lambda: self._conn.execute(
            f"UPDATE submission SET {sql}, updated_at = CURRENT_TIMESTAMP WHERE key = ?",
            (*args, key)))

    async def mark_created(self, key: str, native_id: str) -> None:
        await self._set(key, "state = 'created', native_id = ?, error = NULL", native_id)

    async def mark_done(self, key: str) -> None:
        # the draft (personal data) is no longer needed once the centre holds the record
        await self._set(key, "state = 'done', draft = '{}', lease_until = NULL")

    async def mark_failed(self, key: str, error: str) -> None:
        await self._set(key, "state = 'failed', error = ?, lease_until = NULL", error)

    async def get(self, key: str) -> Submission | None:
        return await self._run(lambda: _row(self._conn.execute(
            f"{_SELECT} WHERE key = ?", (key,)).fetchone()))

    async def by_receipt(self, receipt: str) -> Submission | None:
        return await self._run(lambda: _row(self._conn.execute(
            f"{_SELECT} WHERE receipt = ?", (receipt,)).fetchone()))

    async def unfinished(self) -> list[Submission]:
        rows = await self._run(lambda: self._conn.execute(
            f"{_SELECT} WHERE state IN ('pending', 'created') ORDER BY updated_at").fetchall())
        return [s for s in map(_row, rows) if s is not None]

    async def count(self) -> int:
        (n,) = await self._run(lambda: self._conn.execute(
            "SELECT count(*) FROM submission").fetchone())
        return int(n)

    async def aclose(self) -> None:
        await in_thread(self._lock, self._conn.close)


def _connect(path: str) -> sqlite3.Connection:
    conn = connect_durable(path)  # a claimed submission survives a crash
    conn.executescript(_SCHEMA)
    return conn
