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

from .conftest import engine_url, make_row

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


ACME = "91632301MA7ABCDE1E"  # valid GB 32100 codes (sandbox.people.uscc)
SHOP = "92632301MA7ABCDE1B"


async def test_organisation_matters_inside_the_prefix_newest_first(store: ProjectionStore) -> None:
    day = dt.timedelta(days=1)
    at = dt.datetime(2025, 3, 5, 9, 30, tzinfo=CST)
    await store.upsert([
        make_row("TJ1", orgs=(ACME,), received=at),
        make_row("（2025）青2301民初7号", centre=Centre.LITIGATION, orgs=(ACME, SHOP), received=at + day),
        make_row("FY1", centre=Centre.LEGAL_SERVICES, orgs=(ACME,), received=at - day, region="632302001001"),
        make_row("TJ2", orgs=(ACME,), region="650201001001"),  # Karamay
        make_row("TJ3"),  # no organisation
    ])
    assert await store.organisation_matters(ACME, "6323") == [
        (Centre.LITIGATION, "（2025）青2301民初7号"), (Centre.MEDIATION, "TJ1"), (Centre.LEGAL_SERVICES, "FY1")]
    assert await store.organisation_matters(ACME, "632302") == [(Centre.LEGAL_SERVICES, "FY1")]
    assert await store.organisation_matters(ACME, "6502") == [(Centre.MEDIATION, "TJ2")]
    assert await store.organisation_matters(SHOP, "63") == [(Centre.LITIGATION, "（2025）青2301民初7号")]
    assert await store.organisation_matters(ACME, "4313") == []
    assert await store.organisation_matters("91632301MA7ABCDE1X", "63") == []
    back = await store.rows([(Centre.LITIGATION, "（2025）青2301民初7号")])
    assert back[(Centre.LITIGATION, "（2025）青2301民初7号")].orgs == (ACME, SHOP)


async def test_upsert_and_delete_leave_no_stale_organisation_lines(store: ProjectionStore) -> None:
    await store.upsert([make_row("TJ1", orgs=(ACME,)), make_row("TJ2", orgs=(ACME,))])
    # The matter now names another organisation, and moved to another county.
    await store.upsert([make_row("TJ1", orgs=(SHOP,), region="632302001001")])
    assert await store.organisation_matters(ACME, "63") == [(Centre.MEDIATION, "TJ2")]
    assert await store.organisation_matters(SHOP, "632301") == []
    assert await store.organisation_matters(SHOP, "632302") == [(Centre.MEDIATION, "TJ1")]
    await store.upsert([make_row("TJ1", orgs=(SHOP,), region="632302001001")] * 2)  # a replay adds nothing
    assert await store.organisation_matters(SHOP, "63") == [(Centre.MEDIATION, "TJ1")]
    await store.upsert([make_row("TJ2")])  # no organisation any more
    assert await store.organisation_matters(ACME, "63") == []
    await store.delete(Centre.MEDIATION, ["TJ1"])
    assert await store.organisation_matters(SHOP, "63") == []


async def test_a_large_batch_indexes_and_replaces_organisations_like_a_small_one(store: ProjectionStore) -> None:
    """Engines load large batches another way (CSV, COPY): the index follows them too."""
    rows = [make_row(f"TJ{i:04d}", orgs=(ACME,) if i % 2 else (SHOP,)) for i in range(600)]
    await store.upsert(rows)
    assert len(await store.organisation_matters(ACME, "63")) == 300
    await store.upsert([make_row(r.native_id, orgs=(SHOP,)) for r in rows])
    assert await store.organisation_matters(ACME, "63") == []
    assert len(await store.organisation_matters(SHOP, "63")) == 600
    await store.delete(Centre.MEDIATION, [r.native_id for r in rows[:100]])
    assert len(await store.organisation_matters(SHOP, "63")) == 500


async def test_organisations_are_in_the_fingerprint() -> None:
    assert make_row("TJ1", orgs=(ACME,)).fingerprint() != make_row("TJ1").fingerprint()
    assert make_row("TJ1", orgs=(ACME,)).fingerprint() != make_row("TJ1", orgs=(SHOP,)).fingerprint()


async def test_postgres_refreshes_the_planners_statistics_after_a_large_write(
        request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """Right after a load the planner would still believe the table nearly empty and pick
    the region index and an on-disk sort for a province's year (1.2 s instead of 0.35 s
    at 1,000,000 rows) and the first scans would set hint bits on every new page: the
    store vacuums and analyses after every large write, not after small ones."""
    from services.projection import postgres as pg

    store = await open_projection_store(engine_url(request, "postgres", tmp_path))
    assert isinstance(store, pg.PostgresProjection)
    try:
        await store.upsert([make_row(f"TJ{i}") for i in range(50)])
        assert store.analyses == 0  # a pushed change or two: left to autovacuum
        await store.upsert([make_row(f"TJ{i}", region=f"6323{i % 90 + 10:02d}001001")
                            for i in range(pg._ANALYSE_AFTER)])
        assert store.analyses == 1
        async with store._pool.acquire() as conn:
            tuples = await conn.fetchval("SELECT reltuples FROM pg_class WHERE oid = 'matter'::regclass")
            analysed = await conn.fetchval(
                "SELECT last_analyze IS NOT NULL AND last_vacuum IS NOT NULL FROM pg_stat_user_tables "
                "WHERE relid = 'matter'::regclass")
        assert tuples == pg._ANALYSE_AFTER and analysed
    finally:
        await store.aclose()
