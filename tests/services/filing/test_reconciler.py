"""Reconcile runs periodically in the gateway's lifespan: a row whose lease expired is
settled without a restart, a row under a live lease is left alone, and the loop's
task ends with the app."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from gateway.app import create_app
from gateway.settings import SubmissionsSettings
from onedoor.model import Centre
from services.filing import Reconciler, open_submission_store
from services.filing.reconciler import TASK_NAME
from tests.gateway.harness import settings

from .fakes import pending_row, writable_centres


async def _deny(_: str) -> object:
    raise AssertionError("no token expected")


async def test_the_lifespan_loop_settles_expired_rows_and_leaves_live_leases(tmp_path: Path) -> None:
    store = await open_submission_store(f"sqlite:///{tmp_path / 'submissions.sqlite'}")
    centres = writable_centres()
    config = settings(state_dir=tmp_path / "state", audit={"url": f"sqlite:///{tmp_path / 'audit.sqlite'}"},
                      submissions={"reconcile_seconds": 0.01})
    app = create_app(config, centres, _deny, submissions=store, close_connectors=False)  # type: ignore[arg-type]
    try:
        async with app.router.lifespan_context(app):
            reconciler: Reconciler = app.state.reconciler
            assert reconciler.running and reconciler.passes == 1  # the pass at start
            now = dt.datetime.now(dt.UTC)
            # rows appear after start: only the periodic loop can settle them
            await store.claim(pending_row("crashed", Centre.MEDIATION, lease_until=now - dt.timedelta(seconds=1)))
            await store.claim(pending_row("in-flight", Centre.MEDIATION, lease_until=now + dt.timedelta(hours=1)))
            seen = reconciler.passes
            await asyncio.wait_for(reconciler.wait_passes(seen + 2), timeout=30)  # a guard, not a measure
            crashed, in_flight = await store.get("crashed"), await store.get("in-flight")
            assert crashed is not None and crashed.state == "done" and crashed.native_id
            assert in_flight is not None and in_flight.state == "pending" and in_flight.native_id is None
            assert centres[Centre.MEDIATION].creates == 1
            assert reconciler.settled == 1
        assert not reconciler.running
        assert not [t for t in asyncio.all_tasks() if t.get_name() == TASK_NAME]
    finally:
        await store.aclose()


async def test_a_failing_pass_does_not_end_the_loop(tmp_path: Path) -> None:
    class Flaky:
        calls = 0

        async def reconcile(self) -> int:
            self.calls += 1
            if self.calls == 1:
                raise OSError("store unreachable")
            return 2

    flaky = Flaky()
    reconciler = Reconciler(flaky, every=0.01)  # type: ignore[arg-type]
    reconciler.start()
    try:
        await asyncio.wait_for(reconciler.wait_passes(3), timeout=30)
    finally:
        await reconciler.stop()
    assert flaky.calls >= 3 and reconciler.settled == 2 * (reconciler.passes - 1)
    assert not reconciler.running


def test_reconcile_interval_is_a_setting() -> None:
    assert SubmissionsSettings().reconcile_seconds == 30.0
    assert settings(submissions={"reconcile_seconds": 5}).submissions.reconcile_seconds == 5.0
