"""The store protocol on each engine: upsert is idempotent, watermarks persist,
and every query applies the region prefix inside the query."""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from pathlib import Path

import pytest

from onedoor.model import CST, Centre, LinkRecord, LinkRelation, MatterStatus
from services.projection import CellQuery, ProjectionStore, Watermark, open_projection_store

from .conftest import make_row

START = dt.datetime(2025, 1, 1, tzinfo=CST)
END = dt.datetime(2025, 12, 31, 23, 59, 59, tzinfo=CST)


async def test_upsert_replays_and_replaces(store: ProjectionStore) -> None:
    row = make_row("TJ1")
    await store.upsert([row, row])
    await store.upsert([row])
    assert await store.count(Centre.MEDIATION) == 1
    closed = make_row("TJ1", status=MatterStatus.CLOSED, closed=dt.datetime(2025, 3, 9, tzinfo=CST))
    await store.upsert([closed])
    assert (await store.fingerprints(Centre.MEDIATION)) == {"TJ1": closed.fingerprint()}
    back = (await store.rows([(Centre.MEDIATION, "TJ1")]))[(Centre.MEDIATION, "TJ1")]
    assert back == closed and back.fingerprint() == closed.fingerprint()
    assert await store.delete(Centre.MEDIATION, ["TJ1", "nope"]) == 2
    assert await store.count(Centre.MEDIATION) == 0


async def test_watermarks_round_trip(store: ProjectionStore) -> None:
    at = dt.datetime(2025, 6, 1, 12, tzinfo=CST)
    await store.set_watermark(Watermark(Centre.LEGAL_SERVICES, "CURSOR", at, "abc", 3))
    await store.set_watermark(Watermark(Centre.PETITIONS, "EXPORT", None, None, 0, "CENTRE_UNAVAILABLE"))
    marks = await store.watermarks()
    assert marks[Centre.LEGAL_SERVICES] == Watermark(Centre.LEGAL_SERVICES, "CURSOR", at, "abc", 3)
    assert marks[Centre.PETITIONS].error == "CENTRE_UNAVAILABLE"


async def test_cells_group_inside_the_prefix_and_count_repeats(store: ProjectionStore) -> None:
    may = dt.datetime(2025, 5, 2, tzinfo=CST)
    await store.upsert([
        make_row("TJ1"), make_row("TJ2", region="632302001001"), make_row("TJ3", region="650201001001"),
        make_row("TJ4", received=dt.datetime(2024, 5, 1, tzinfo=CST)),
        make_row("XF1", centre=Centre.PETITIONS, person="p1", received=may),
        make_row("XF2", centre=Centre.PETITIONS, person="p1", received=may + dt.timedelta(days=3)),
        make_row("XF3", centre=Centre.PETITIONS, person="p1", category="合同", received=may),
        make_row("XF4", centre=Centre.PETITIONS, person=None, received=may),
    ])
    cells = await store.cells(CellQuery("6323", START, END, 6))
    by = {(c.centre, c.region, c.month, c.category): c.counts for c in cells}
    assert {k[1] for k in by} == {"632301", "632302"}  # 6502 and 2024 are outside
    assert by[(Centre.MEDIATION, "632301", "2025-03", "邻里")]["registered"] == 1
    petitions = by[(Centre.PETITIONS, "632301", "2025-05", "邻里")]
    assert petitions["registered"] == 3 and petitions["repeat_petitions"] == 1
    assert by[(Centre.PETITIONS, "632301", "2025-05", "合同")]["repeat_petitions"] == 0
    assert sum(c.counts["registered"] for c in await store.cells(CellQuery("63", START, END, 4))) == 6


async def test_overdue_and_roots(store: ProjectionStore) -> None:
    due = dt.datetime(2025, 4, 5, tzinfo=CST)
    link = (LinkRecord(LinkRelation.ESCALATED_TO, Centre.PETITIONS, "XF1"),)
    await store.upsert([
        make_row("TJ1", due=due, links=link), make_row("TJ2", due=due, region="650201001001"),
        make_row("TJ3", due=due, status=MatterStatus.CLOSED, closed=due + dt.timedelta(days=2)),
        make_row("TJ4", due=due + dt.timedelta(days=60)),
    ])
    found = await store.overdue("6323", dt.datetime(2025, 5, 1, tzinfo=CST))
    assert [r.native_id for r in found] == ["TJ1"]
    assert await store.overdue("6323", due) == []  # not past yet
    roots = await store.roots("63", START, END, [Centre.MEDIATION])
    assert [(r.native_id, r.links) for r in roots] == [("TJ1", link)]
    assert await store.roots("63", START, END, [Centre.GOVERNANCE]) == []


async def test_a_duckdb_file_serves_one_process(tmp_path: Path) -> None:
    path = tmp_path / "held.duckdb"
    held = await asyncio.create_subprocess_exec(
        sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(path)!r}); print('open', flush=True); "
        "time.sleep(30)", stdout=asyncio.subprocess.PIPE)
    try:
        assert held.stdout is not None and (await held.stdout.readline()).strip() == b"open"
        with pytest.raises(RuntimeError, match="open in another process"):
            await open_projection_store(f"duckdb:///{path}")
    finally:
        held.kill()
        await held.wait()
