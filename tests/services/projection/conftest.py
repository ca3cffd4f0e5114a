"""Every engine behind one fixture: each projection test runs on each."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio

from onedoor.deadlines import RULES, Deadline
from onedoor.model import CST, Centre, LinkRecord, MatterStatus
from services.projection import FLAGS, ProjectionRow, ProjectionStore, open_projection_store

ENGINES = ["duckdb", "sqlite", "postgres"]


def engine_url(request: pytest.FixtureRequest, engine: str, directory: Path) -> str:
    """Where a test's projection lives on ``engine`` (PostgreSQL: a schema of its own)."""
    if engine == "postgres":
        base: str = request.getfixturevalue("postgres_url")
        schema = f"t_proj_{uuid.uuid4().hex[:10]}"
        request.addfinalizer(lambda: _drop_schema(base, schema))
        return f"{base}?schema={schema}"
    return f"{engine}:///{directory / f'projection.{engine}'}"


def _drop_schema(base: str, schema: str) -> None:
    """Leave the shared test database as found (run in a thread: a finaliser may be called
    while an event loop is running in this one)."""
    async def drop() -> None:
        conn = await asyncpg.connect(base)
        try:
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        finally:
            await conn.close()

    worker = threading.Thread(target=asyncio.run, args=(drop(),))
    worker.start()
    worker.join()


@pytest_asyncio.fixture(params=ENGINES)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ProjectionStore]:
    opened = await open_projection_store(engine_url(request, request.param, tmp_path))
    try:
        yield opened
    finally:
        await opened.aclose()


def make_row(native_id: str, *, centre: Centre = Centre.MEDIATION, region: str = "632301001001",
             received: dt.datetime = dt.datetime(2025, 3, 5, 9, 30, tzinfo=CST), category: str = "邻里",
             status: MatterStatus = MatterStatus.IN_PROGRESS, closed: dt.datetime | None = None,
             due: dt.datetime | None = None, person: str | None = None, accepted: int = 1,
             links: tuple[LinkRecord, ...] = (), orgs: tuple[str, ...] = ()) -> ProjectionRow:
    deadlines = () if due is None else (Deadline(RULES["MEDIATION"], received, due, due, closed),)
    return ProjectionRow(
        centre=centre, native_id=native_id, reference=native_id, kind="RM", category=category, region_code=region,
        status=status, centre_status="先行调解", received_at=received, month=received.strftime("%Y-%m"),
        closed_at=closed, deadlines=deadlines, flags={f: (accepted if f == "accepted" else 0) for f in FLAGS},
        person=person, links=links, orgs=orgs)
