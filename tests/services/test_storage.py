"""Several workers open one new SQLite file at once (`serve --workers N`).

Without the retry, a plain `PRAGMA journal_mode = WAL` beside another process
creating the schema failed about one open in twenty here ("database is locked")
and took a worker's start-up down with it — seen in CI with two workers."""

from __future__ import annotations

import multiprocessing
import sqlite3
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from pathlib import Path

from services.storage import connect_durable

SCHEMA = ("CREATE TABLE IF NOT EXISTS a (x); CREATE TABLE IF NOT EXISTS b (y); "
          "CREATE INDEX IF NOT EXISTS ai ON a (x);")


def _worker(path: str, go: Event, out: Queue[str]) -> None:
    go.wait()
    try:
        conn = connect_durable(path)
        conn.executescript(SCHEMA)
        out.put(conn.execute("PRAGMA journal_mode").fetchone()[0])
        conn.close()
    except sqlite3.OperationalError as exc:
        out.put(str(exc))


def test_workers_starting_together_all_open_the_store(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    results: list[str] = []
    for round_ in range(40):
        path = str(tmp_path / f"{round_}.sqlite")
        go, out = ctx.Event(), ctx.Queue()
        workers = [ctx.Process(target=_worker, args=(path, go, out)) for _ in range(4)]
        for worker in workers:
            worker.start()
        go.set()
        for worker in workers:
            worker.join(30)
        results += [out.get(timeout=5) for _ in workers]
        out.close()
        out.join_thread()
    assert results == ["wal"] * 160


async def test_a_cancelled_call_keeps_the_connection_until_its_thread_is_done() -> None:
    """Cancelling a caller must not let the next call (or close) use the connection
    while the cancelled call's thread still does — that crashed the interpreter."""
    import asyncio
    import threading

    from services.storage import in_thread

    lock = asyncio.Lock()
    order: list[str] = []
    release = threading.Event()

    def slow() -> None:
        order.append("slow starts")
        release.wait(10)
        order.append("slow ends")

    def close() -> None:
        order.append("close")

    first = asyncio.create_task(in_thread(lock, slow))
    for _ in range(1000):  # bounded: the thread starts within ~10 s
        if order:
            break
        await asyncio.sleep(0.01)
    first.cancel()
    second = asyncio.create_task(in_thread(lock, close))
    await asyncio.sleep(0.05)
    assert order == ["slow starts"]  # close waits: the thread still holds the connection
    release.set()
    await second
    assert order == ["slow starts", "slow ends", "close"]
    assert first.cancelled()
