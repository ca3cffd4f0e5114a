"""Opening one SQLite file from several processes (``serve --workers N``), writing
to it in one immediate transaction, and using one connection from worker threads.

Switching a new database to WAL needs a moment of exclusive access and SQLite
answers "database is locked" at once instead of waiting on the busy handler, so
two workers starting together could fail start-up. The switch is retried briefly.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["connect_durable", "immediate", "in_thread"]

T = TypeVar("T")

_WAL_ATTEMPTS = 100
_WAL_PAUSE = 0.05


def connect_durable(path: str) -> sqlite3.Connection:
    """WAL, ``synchronous = FULL`` (an acknowledged write survives power loss), 10 s busy wait."""
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10.0)
    for attempt in range(_WAL_ATTEMPTS):
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == _WAL_ATTEMPTS - 1:
                conn.close()
                raise
            time.sleep(_WAL_PAUSE)
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA busy_timeout = 10000")
    return conn


def immediate(conn: sqlite3.Connection, fn: Callable[[], T]) -> T:
    """Run ``fn`` in a ``BEGIN IMMEDIATE`` transaction: the write lock is taken up
    front (so another process's writer waits on the busy handler instead of
    failing mid-transaction), committed on success, rolled back on anything else."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = fn()
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return result


async def in_thread(lock: asyncio.Lock, fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in a worker thread, one call at a time under ``lock``.

    Cancelling the caller does not stop the thread, so the lock is held until the
    thread is done: otherwise the next call — or ``close()`` at shutdown — would use
    the connection while the thread still does, which crashes the interpreter
    (seen: a segmentation fault when a cancelled checkpoint's read met the close).
    """
    async with lock:
        work = asyncio.ensure_future(asyncio.to_thread(fn, *args))
        try:
            return await asyncio.shield(work)
        except asyncio.CancelledError:
            await asyncio.wait({work})  # let the thread finish before the lock is let go
            raise
