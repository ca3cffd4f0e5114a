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
