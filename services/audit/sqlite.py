# ruff: noqa: S608 - SQL text is built only from this module's column constants; values are
# always bound parameters.
"""The audit trail in one SQLite file (WAL), for the demo and single-host installs.

One connection, used from worker threads (``asyncio.to_thread``) one call at
a time under an asyncio lock. ``BEGIN IMMEDIATE`` takes SQLite's write lock
before the head row is read, so a second process appending to the same file
waits instead of forking the chain. A trigger refuses UPDATE on records:
tampering needs deliberate schema changes, and verify still catches it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
import sqlite3
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from ..storage import connect_durable, immediate, in_thread
from .chain import Anchor, ChainState, ChainVerifier, Inspection, PurgePlan, Vouched
from .record import (
    GENESIS_HASH,
    AuditEntry,
    AuditRecord,
    VerifyResult,
    canonical_citizen,
    format_time,
    parse_time,
    record_from_row,
    record_to_row,
    seal,
)
from .store import check_page_size, decode_cursor, encode_cursor

__all__ = ["SqliteAuditStore"]

T = TypeVar("T")
_BATCH = 1000
_COLUMNS = ("seq", "at", "sub", "client_id", "purpose", "operation_name", "document_hash",
            "citizens", "centres", "unmasked_fields", "decisions", "result_count", "outcome",
            "request_id", "prev_hash", "hash")
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS audit_record (
    seq INTEGER PRIMARY KEY, at TEXT NOT NULL, sub TEXT, client_id TEXT, purpose TEXT,
    operation_name TEXT, document_hash TEXT, citizens TEXT NOT NULL, centres TEXT NOT NULL,
    unmasked_fields TEXT NOT NULL, decisions TEXT NOT NULL, result_count INTEGER NOT NULL,
    outcome TEXT NOT NULL, request_id TEXT, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_record_at ON audit_record (at);
CREATE TABLE IF NOT EXISTS audit_citizen (
    citizen_id TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (citizen_id, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit_anchor (
    id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, hash TEXT NOT NULL,
    last_at TEXT NOT NULL, purged_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit_purge (seq INTEGER PRIMARY KEY, checkpoint TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit_identity (
    id INTEGER PRIMARY KEY CHECK (id = 1), db_id TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TRIGGER IF NOT EXISTS audit_record_append_only BEFORE UPDATE ON audit_record
    BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
INSERT OR IGNORE INTO audit_head (id, seq, hash) VALUES (1, 0, '{GENESIS_HASH}');
"""
_INSERT = (f"INSERT INTO audit_record ({', '.join(_COLUMNS)}) "
           f"VALUES ({', '.join(':' + c for c in _COLUMNS)})")


class SqliteAuditStore:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()
        self._closed = False

    @classmethod
    async def open(cls, path: str, *, create: bool = True) -> SqliteAuditStore:
        return cls(await asyncio.to_thread(_connect, path, create))

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._closed:
            raise RuntimeError("audit store is closed")
        return await in_thread(self._lock, fn, *args)

    def _write(self, fn: Callable[[], T]) -> T:
        return immediate(self._conn, fn)

    async def append(self, entry: AuditEntry) -> AuditRecord:
        return await self._run(self._write, lambda: self._append(entry))

    def _append(self, entry: AuditEntry) -> AuditRecord:
        seq, prev = self._conn.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
        record = seal(entry, seq + 1, dt.datetime.now(dt.UTC), prev)
        self._conn.execute(_INSERT, record_to_row(record))
        self._conn.executemany("INSERT INTO audit_citizen (citizen_id, seq) VALUES (?, ?)",
                               [(c, record.seq) for c in record.citizens])
        self._conn.execute("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1",
                           (record.seq, record.hash))
        return record

    async def query(
        self,
        citizen_id: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> tuple[list[AuditRecord], str | None]:
        sql = f"SELECT {', '.join('r.' + c for c in _COLUMNS)} FROM audit_record r"
        where = ["r.seq > ?"]
        params: list[object] = [decode_cursor(after)]
        if citizen_id is not None:
            sql += " JOIN audit_citizen c ON c.seq = r.seq AND c.citizen_id = ?"
            params.insert(0, canonical_citizen(citizen_id))
        if since is not None:
            where.append("r.at >= ?")
            params.append(format_time(since))
        if until is not None:
            where.append("r.at < ?")
            params.append(format_time(until))
        sql += " WHERE " + " AND ".join(where) + " ORDER BY r.seq LIMIT ?"
        params.append(check_page_size(first) + 1)
        rows = await self._run(lambda: self._conn.execute(sql, params).fetchall())
        records = [record_from_row(dict(zip(_COLUMNS, row, strict=True))) for row in rows]
        more = len(records) > first
        records = records[:first]
        return records, (encode_cursor(records[-1].seq) if more else None)

    async def verify(self) -> VerifyResult:
        return (await self.inspect()).result

    async def inspect(self, expected: Mapping[int, Vouched] | None = None) -> Inspection:
        return await self._run(self._inspect, expected)

    def _inspect(self, expected: Mapping[int, Vouched] | None) -> Inspection:
        conn = self._conn
        conn.execute("BEGIN")  # one snapshot for anchor, records, index and head
        try:
            state = self._state()
            verifier = ChainVerifier(state.anchor, expected)
            last = state.anchor.seq
            while True:
                rows = conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM audit_record "
                                    "WHERE seq > ? ORDER BY seq LIMIT ?", (last, _BATCH)).fetchall()
                records = [record_from_row(dict(zip(_COLUMNS, row, strict=True))) for row in rows]
                if not all(verifier.feed(r) for r in records):
                    break
                if records:
                    verifier.index(conn.execute(
                        "SELECT citizen_id, seq FROM audit_citizen WHERE seq BETWEEN ? AND ?",
                        (records[0].seq, records[-1].seq)).fetchall())
                    last = records[-1].seq
                if len(rows) < _BATCH:
                    break
            verifier.stray_index(seq for (seq,) in conn.execute(
                "SELECT seq FROM audit_citizen WHERE seq <= ? OR seq > ?",
                (state.anchor.seq, last)))
            return Inspection(state, verifier.finish(state.head))
        finally:
            conn.execute("COMMIT")

    async def state(self) -> ChainState:
        return await self._run(self._snapshot, self._state)

    def _snapshot(self, fn: Callable[[], T]) -> T:
        self._conn.execute("BEGIN")
        try:
            return fn()
        finally:
            self._conn.execute("COMMIT")

    def _state(self) -> ChainState:
        conn = self._conn
        head = conn.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
        anchor = conn.execute("SELECT seq, hash FROM audit_anchor WHERE id = 1").fetchone()
        identity = note = None
        try:
            identity = conn.execute("SELECT db_id FROM audit_identity WHERE id = 1").fetchone()
            if anchor:
                note = conn.execute("SELECT checkpoint FROM audit_purge WHERE seq = ?",
                                    (anchor[0],)).fetchone()
        except sqlite3.OperationalError:  # a database from before checkpoints (or one gutted)
            pass
        return ChainState(identity=identity[0] if identity else "",
                          head=Anchor(*head) if head else Anchor(0, "missing"),
                          anchor=Anchor(*anchor) if anchor else Anchor(),
                          anchor_checkpoint=note[0] if note else None)

    async def hash_at(self, seq: int) -> str | None:
        row = await self._run(lambda: self._conn.execute(
            "SELECT hash FROM audit_record WHERE seq = ?", (seq,)).fetchone())
        return None if row is None else str(row[0])

    async def purge_older_than(self, cutoff: dt.datetime) -> int:
        plan = await self.plan_purge(cutoff)
        return 0 if plan is None else await self.purge_through(plan.anchor)

    async def plan_purge(self, cutoff: dt.datetime) -> PurgePlan | None:
        return await self._run(self._snapshot, lambda: self._plan(format_time(cutoff)))

    def _plan(self, cutoff: str) -> PurgePlan | None:
        conn = self._conn
        (keep_from,) = conn.execute("SELECT MIN(seq) FROM audit_record WHERE at >= ?",
                                    (cutoff,)).fetchone()
        if keep_from is None:
            (keep_from,) = conn.execute("SELECT seq + 1 FROM audit_head WHERE id = 1").fetchone()
        last = conn.execute("SELECT seq, hash, at FROM audit_record WHERE seq = ?",
                            (keep_from - 1,)).fetchone()
        if last is None:
            return None  # nothing older than the cutoff that is not already purged
        (first,) = conn.execute("SELECT MIN(seq) FROM audit_record").fetchone()
        return PurgePlan(first=first, anchor=Anchor(last[0], last[1]), last_at=parse_time(last[2]))

    async def purge_through(self, anchor: Anchor, checkpoint: str | None = None) -> int:
        return await self._run(self._write, lambda: self._purge(anchor, checkpoint))

    def _purge(self, anchor: Anchor, checkpoint: str | None) -> int:
        conn = self._conn
        last = conn.execute("SELECT hash, at FROM audit_record WHERE seq = ?",
                            (anchor.seq,)).fetchone()
        if last is None:
            return 0  # already purged (another process, or an earlier attempt)
        if last[0] != anchor.hash:
            raise RuntimeError(f"audit record {anchor.seq} is not the one planned for purging")
        conn.execute("INSERT OR REPLACE INTO audit_anchor (id, seq, hash, last_at, purged_at) "
                     "VALUES (1, ?, ?, ?, ?)",
                     (anchor.seq, anchor.hash, last[1], format_time(dt.datetime.now(dt.UTC))))
        if checkpoint is not None:
            conn.execute("INSERT OR REPLACE INTO audit_purge (seq, checkpoint) VALUES (?, ?)",
                         (anchor.seq, checkpoint))
        conn.execute("DELETE FROM audit_citizen WHERE seq <= ?", (anchor.seq,))
        return conn.execute("DELETE FROM audit_record WHERE seq <= ?", (anchor.seq,)).rowcount

    async def writable(self) -> bool:
        if self._closed:
            return False
        try:
            await self._run(self._write, lambda: None)
        except sqlite3.Error:
            return False
        return True

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            await in_thread(self._lock, self._conn.close)


def _connect(path: str, create: bool) -> sqlite3.Connection:
    if path != ":memory:" and not create and not Path(path).is_file():
        raise FileNotFoundError(f"no audit database at {path}")
    conn = connect_durable(path)  # an acknowledged audit record survives power loss
    if create:
        conn.executescript(_SCHEMA)
        # A nonce per database: checkpoints name it, so a database swapped for a fresh one shows.
        conn.execute("INSERT OR IGNORE INTO audit_identity (id, db_id, created_at) VALUES (1, ?, ?)",
                     (secrets.token_hex(16), format_time(dt.datetime.now(dt.UTC))))
    elif conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'audit_head'").fetchone() is None:
        conn.close()
        raise LookupError(f"{path} is not an audit database")
    return conn
