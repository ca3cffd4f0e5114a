"""The feeder against the sandbox over real sockets, on each engine: every feed style
with missed and duplicated changes, resync repairing drift, a centre down while
feeding (the interactive breaker untouched), watermarks and their errors."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from connectors.breaker import BreakerState
from connectors.registry import build_connectors, build_feeds
from connectors.settings import BreakerSettings, CallPolicy, Retries, Timeouts
from gateway.demo import demo_settings_for
from onedoor.model import Centre, MatterRecord, MatterStatus
from sandbox.client import set_fault
from sandbox.runner import Sandbox, run_sandbox
from schema.projected import STORED, row_mapper
from services.projection import Feeder, FeedSettings, ProjectionStore, open_projection_store
from services.projection import feeder as feeder_module

from .conftest import ENGINES, engine_url

pytestmark = pytest.mark.asyncio(loop_scope="module")

POLICY = CallPolicy(timeouts=Timeouts(connect=1, read=5, total=5), max_concurrency=4,
                    retries=Retries(max_attempts=1), breaker=BreakerSettings(failure_threshold=2, reset_seconds=0.2))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sb(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Sandbox]:
    state: Path = tmp_path_factory.mktemp("feeder")
    async with run_sandbox(None, state, matters=2500) as running:
        yield running


@pytest_asyncio.fixture(loop_scope="module")
async def feeder(sb: Sandbox, store: ProjectionStore) -> AsyncIterator[Feeder]:
    settings = demo_settings_for(dict(sb.urls), sb.idp_url, sb.state_dir, port=8000)
    fed = Feeder(store, build_feeds(settings.centres, policy=POLICY), row_mapper(b"k" * 32),
                 FeedSettings(poll_seconds=0.05, resync_seconds=3600, resync_rate=None))
    yield fed
    await fed.aclose()


@pytest_asyncio.fixture(loop_scope="module", params=ENGINES)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ProjectionStore]:
    """Each engine, on this module's event loop (the sandbox's)."""
    opened = await open_projection_store(engine_url(request, request.param, tmp_path), STORED)
    yield opened
    await opened.aclose()


async def _move(sb: Sandbox, centre: Centre, native_id: str, status: str) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(f"{sb.urls[centre]}/_sandbox/matters/{native_id}/status",
                                     json={"status": status})
        response.raise_for_status()


def _fresh(store: ProjectionStore) -> int:
    """Each engine moves records of its own (the sandbox is shared by both runs)."""
    return {"sqlite": 4, "duckdb": 8}.get(store.engine, 12)


def _open(sb: Sandbox, centre: Centre, n: int = 1, skip: int = 0) -> list[str]:
    """``n`` records of the centre that are open (so a move to a closing status shows)."""
    found = [sb.world.native_id(r) for r in sb.world.rows(centre) if sb.world.matter(r).closed is None]
    return found[skip: skip + n]


async def test_initial_load_reads_every_centre_in_its_style(sb: Sandbox, feeder: Feeder,
                                                             store: ProjectionStore) -> None:
    drifts = await feeder.load()
    for centre in Centre:
        assert await store.count(centre) == sb.world.count(centre), centre
        assert drifts[centre].missing == drifts[centre].seen == sb.world.count(centre)
    marks = await store.watermarks()
    assert {c: m.style for c, m in marks.items()} == {
        Centre.MEDIATION: "PUSH", Centre.LEGAL_SERVICES: "CURSOR", Centre.PETITIONS: "EXPORT",
        Centre.LITIGATION: "PUSH", Centre.GOVERNANCE: "PUSH"}
    assert all(m.as_of is not None and m.error is None for m in marks.values())
    assert marks[Centre.PETITIONS].cursor and marks[Centre.LEGAL_SERVICES].cursor
    again = await feeder.load()  # nothing changed: nothing to repair
    assert all(d.repaired == 0 for d in again.values())
    status = feeder.status()
    assert status["MEDIATION"]["rows"] == sb.world.count(Centre.MEDIATION)


async def test_push_duplicated_and_missed_changes(sb: Sandbox, feeder: Feeder, store: ProjectionStore) -> None:
    await feeder.load()
    a, b = _open(sb, Centre.MEDIATION, 2, skip=_fresh(store))
    await _move(sb, Centre.MEDIATION, a, "AJSL")
    for _ in range(3):  # the same callback delivered three times
        assert feeder.notify(Centre.MEDIATION, a)
    assert await feeder.poll(Centre.MEDIATION) == 1
    assert await feeder.poll(Centre.MEDIATION) == 0
    row = (await store.rows([(Centre.MEDIATION, a)]))[(Centre.MEDIATION, a)]
    assert row.status is MatterStatus.CLOSED and row.closed_at is not None
    assert await store.count(Centre.MEDIATION) == sb.world.count(Centre.MEDIATION)
    assert not feeder.notify(Centre.LEGAL_SERVICES, "x")  # polled, not pushed
    await _move(sb, Centre.MEDIATION, b, "ZZ")  # its callback is lost
    assert await feeder.poll(Centre.MEDIATION) == 0
    stale = (await store.rows([(Centre.MEDIATION, b)]))[(Centre.MEDIATION, b)]
    assert stale.status is not MatterStatus.TERMINATED
    drift = await feeder.resync(Centre.MEDIATION)  # the resync finds and repairs it
    assert (drift.missing, drift.stale, drift.extra) == (0, 1, 0)
    fixed = (await store.rows([(Centre.MEDIATION, b)]))[(Centre.MEDIATION, b)]
    assert fixed.status is MatterStatus.TERMINATED


async def test_cursor_follows_changes_and_replays_harmlessly(sb: Sandbox, feeder: Feeder,
                                                             store: ProjectionStore) -> None:
    await feeder.load()
    before = await store.watermarks()
    native_id = _open(sb, Centre.LEGAL_SERVICES, skip=_fresh(store))[0]
    await _move(sb, Centre.LEGAL_SERVICES, native_id, "terminated")
    assert await feeder.poll(Centre.LEGAL_SERVICES) >= 1
    row = (await store.rows([(Centre.LEGAL_SERVICES, native_id)]))[(Centre.LEGAL_SERVICES, native_id)]
    assert row.status is MatterStatus.TERMINATED
    after = (await store.watermarks())[Centre.LEGAL_SERVICES]
    assert after.cursor != before[Centre.LEGAL_SERVICES].cursor
    assert after.as_of is not None and after.as_of >= before[Centre.LEGAL_SERVICES].as_of  # type: ignore[operator]
    # A replayed cursor (a poll whose answer was lost) writes the same rows again: no harm.
    feeder.marks[Centre.LEGAL_SERVICES] = before[Centre.LEGAL_SERVICES]
    await feeder.poll(Centre.LEGAL_SERVICES)
    assert await store.count(Centre.LEGAL_SERVICES) == sb.world.count(Centre.LEGAL_SERVICES)
    assert (await feeder.resync(Centre.LEGAL_SERVICES)).repaired == 0


async def test_export_waits_for_the_next_dump(sb: Sandbox, feeder: Feeder, store: ProjectionStore) -> None:
    await feeder.load()
    native_id = _open(sb, Centre.PETITIONS, skip=_fresh(store))[0]
    await _move(sb, Centre.PETITIONS, native_id, "06")
    assert await feeder.poll(Centre.PETITIONS) == 0  # nothing new until the next dump
    async with httpx.AsyncClient() as client:
        (await client.post(f"{sb.urls[Centre.PETITIONS]}/_sandbox/export")).raise_for_status()
    assert await feeder.poll(Centre.PETITIONS) >= 1
    row = (await store.rows([(Centre.PETITIONS, native_id)]))[(Centre.PETITIONS, native_id)]
    assert row.status is MatterStatus.CLOSED
    mark = (await store.watermarks())[Centre.PETITIONS]
    assert mark.as_of is not None and mark.as_of > dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)


async def test_resync_repairs_every_kind_of_drift(sb: Sandbox, feeder: Feeder, store: ProjectionStore) -> None:
    await feeder.load()
    rows = sb.world.rows(Centre.GOVERNANCE)
    lost, kept = sb.world.native_id(rows[0]), sb.world.native_id(rows[1])
    await store.delete(Centre.GOVERNANCE, [lost])
    ghost = (await store.rows([(Centre.GOVERNANCE, kept)]))[(Centre.GOVERNANCE, kept)]
    await store.upsert([replace(ghost, native_id="WG-GONE"), replace(ghost, category="虚构")])
    drift = await feeder.resync(Centre.GOVERNANCE)
    assert (drift.missing, drift.stale, drift.extra) == (1, 1, 1)
    assert await store.count(Centre.GOVERNANCE) == sb.world.count(Centre.GOVERNANCE)
    assert feeder.status()["GOVERNANCE"]["lastDrift"] == {
        "at": drift.finished.isoformat(), "seen": drift.seen, "missing": 1, "stale": 1, "extra": 1}


async def test_a_centre_down_while_feeding_leaves_the_rest_and_the_interactive_breaker(
        sb: Sandbox, feeder: Feeder, store: ProjectionStore) -> None:
    settings = demo_settings_for(dict(sb.urls), sb.idp_url, sb.state_dir, port=8000)
    interactive = build_connectors(settings.centres)
    await feeder.load()
    loaded = (await store.watermarks())[Centre.LITIGATION]
    changed = _open(sb, Centre.LITIGATION, skip=_fresh(store))[0]
    await set_fault(sb.urls[Centre.LITIGATION], "down")
    try:
        feeder.notify(Centre.LITIGATION, changed)  # a callback arrives; the re-read fails
        for _ in range(3):
            await feeder._step(Centre.LITIGATION)
            await feeder._step(Centre.MEDIATION)
        mark = (await store.watermarks())[Centre.LITIGATION]
        assert mark.error == "CENTRE_UNAVAILABLE" and mark.as_of == loaded.as_of  # kept, not advanced
        assert feeder.status()["LITIGATION"]["error"] == "CENTRE_UNAVAILABLE"
        assert await store.count(Centre.LITIGATION) == sb.world.count(Centre.LITIGATION)  # nothing lost
        assert (await store.watermarks())[Centre.MEDIATION].error is None
        feed_breaker = feeder.feeds[Centre.LITIGATION].connector.http.breaker  # type: ignore[attr-defined]
        assert feed_breaker.state is BreakerState.OPEN
        live_breaker = interactive[Centre.LITIGATION].http.breaker  # type: ignore[attr-defined]
        assert live_breaker.state is BreakerState.CLOSED  # the bulkhead: interactive traffic unaffected
    finally:
        await set_fault(sb.urls[Centre.LITIGATION], "ok")
        for connector in interactive.values():
            await connector.aclose()
    await asyncio.sleep(0.3)  # the feed's own breaker lets a probe through
    await _move(sb, Centre.LITIGATION, changed, "CLOSED")
    await feeder._step(Centre.LITIGATION)  # the kept callback is read now
    assert (await store.watermarks())[Centre.LITIGATION].error is None
    row = (await store.rows([(Centre.LITIGATION, changed)]))[(Centre.LITIGATION, changed)]
    assert row.status is MatterStatus.CLOSED
    assert (await feeder.resync(Centre.LITIGATION)).repaired == 0


async def test_a_restart_resumes_from_the_stored_watermarks(sb: Sandbox, feeder: Feeder,
                                                            store: ProjectionStore) -> None:
    await feeder.load()
    settings = demo_settings_for(dict(sb.urls), sb.idp_url, sb.state_dir, port=8000)
    again = Feeder(store, build_feeds(settings.centres, policy=POLICY), row_mapper(b"k" * 32),
                   FeedSettings(poll_seconds=0.05, resync_seconds=3600, resync_rate=None))
    try:
        await again.restore()
        assert again.marks == await store.watermarks()
        assert again.lag_seconds(Centre.LEGAL_SERVICES) is not None
        await again._step(Centre.LEGAL_SERVICES)  # resumes the cursor: no full sweep
        assert Centre.LEGAL_SERVICES not in again.drifts
        await again._step(Centre.MEDIATION)  # a push centre is reconciled at once
        assert again.drifts[Centre.MEDIATION].repaired == 0
    finally:
        await again.aclose()


async def test_a_record_the_snapshot_missed_is_asked_for_not_deleted(sb: Sandbox, feeder: Feeder,
                                                                      store: ProjectionStore) -> None:
    await feeder.load()
    real = feeder.feeds[Centre.MEDIATION]
    skipped = sb.world.native_id(sb.world.rows(Centre.MEDIATION)[3])

    class Shifted:  # pages read while creates shifted them: one record falls between two pages
        centre, style = real.centre, real.style

        async def snapshot(self) -> AsyncIterator[Sequence[MatterRecord]]:
            async for page in real.snapshot():
                yield [r for r in page if r.native_id != skipped]

        async def fetch(self, native_ids: Sequence[str]) -> Mapping[str, MatterRecord]:
            return await real.fetch(native_ids)

        async def aclose(self) -> None:
            await real.aclose()

    feeder.feeds[Centre.MEDIATION] = Shifted()
    drift = await feeder.resync(Centre.MEDIATION)
    assert drift.extra == 0 and await store.count(Centre.MEDIATION) == sb.world.count(Centre.MEDIATION)
    assert (Centre.MEDIATION, skipped) in await store.rows([(Centre.MEDIATION, skipped)])


async def test_a_reconciliation_is_paced_and_the_first_load_is_not(
        sb: Sandbox, store: ProjectionStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pace is counted, not timed: on a clock that moves only when the feeder sleeps,
    the sleeps asked for add up to exactly records ÷ rate, and the first load asks for none."""
    slept: list[float] = []
    now = [100.0]

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    monkeypatch.setattr(feeder_module._Pace, "clock", staticmethod(lambda: now[0]))
    monkeypatch.setattr(feeder_module._Pace, "sleep", staticmethod(sleep))
    settings = demo_settings_for(dict(sb.urls), sb.idp_url, sb.state_dir, port=8000)
    fed = Feeder(store, build_feeds(settings.centres, policy=POLICY), row_mapper(b"k" * 32),
                 FeedSettings(poll_seconds=0.05, resync_seconds=3600, resync_rate=500.0))
    try:
        first = await fed.resync(Centre.MEDIATION)
        assert slept == []
        again = await fed.resync(Centre.MEDIATION)
        assert again.seen == first.seen > 500
        assert sum(slept) == pytest.approx(again.seen / 500.0)
        assert len(slept) > 1  # between pages, not once at the end
    finally:
        await fed.aclose()
