"""The submissions table in both stores: one claim per key under concurrency,
one lease holder, the states, and the draft dropped once done."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
import pytest_asyncio

from services.filing import Submission, SubmissionStore, open_submission_store


@pytest_asyncio.fixture(params=["sqlite", "postgres"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SubmissionStore]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'submissions.sqlite'}"
    else:
        base: str = request.getfixturevalue("postgres_url")
        url = f"{base}?schema=t_sub_{uuid.uuid4().hex[:10]}"
    opened = await open_submission_store(url)
    try:
        yield opened
    finally:
        await opened.aclose()


def row(key: str, receipt: str) -> Submission:
    return Submission(key=key, receipt=receipt, fingerprint="f", owner="u1",
                      applicant_id="11010519491231002X", region_code="632322001001",
                      centre="MEDIATION", rule_id="MATTER-DISPUTE", draft='{"x": 1}')


async def test_concurrent_claims_make_one_row_and_one_lease(store: SubmissionStore) -> None:
    claims = await asyncio.gather(*(store.claim(row("k1", f"R{i}")) for i in range(20)))
    assert sum(new for _, new in claims) == 1
    assert len({s.receipt for s, _ in claims}) == 1
    until = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    leases = await asyncio.gather(*(store.lease("k1", until) for _ in range(20)))
    assert leases.count(True) == 1
    assert await store.count() == 1


async def test_states_and_reconcile_view(store: SubmissionStore) -> None:
    first, _ = await store.claim(row("k2", "R-k2"))
    assert [s.key for s in await store.unfinished()] == ["k2"]
    await store.mark_failed("k2", "CENTRE_UNAVAILABLE")
    failed = await store.get("k2")
    assert failed is not None and failed.state == "failed" and failed.error == "CENTRE_UNAVAILABLE"
    assert await store.lease("k2", dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1))
    await store.mark_created("k2", "TJ632322202600001")
    assert [s.state for s in await store.unfinished()] == ["created"]
    await store.mark_done("k2")
    done = await store.by_receipt(first.receipt)
    assert done is not None and done.state == "done" and done.native_id == "TJ632322202600001"
    assert done.draft == "{}"  # the filing's personal data is not kept past its use
    assert await store.unfinished() == []
    assert not await store.lease("k2", dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1))
    assert await store.get("nope") is None


async def test_a_claim_is_the_first_lease_and_a_release_gives_only_its_own_back(
        store: SubmissionStore) -> None:
    now = dt.datetime.now(dt.UTC)
    mine = now + dt.timedelta(minutes=1)
    claimed, new = await store.claim(replace(row("k3", "R-k3"), lease_until=mine))
    assert new and claimed.lease_until == mine
    stored = await store.get("k3")
    assert stored is not None and stored.lease_until == mine
    assert not await store.lease("k3", now + dt.timedelta(minutes=2))  # held from the insert on
    await store.mark_created("k3", "TJ1")
    assert not await store.lease("k3", now + dt.timedelta(minutes=2))  # still held while created
    await store.release("k3", now + dt.timedelta(minutes=5))  # not the lease we hold: no-op
    assert not await store.lease("k3", now + dt.timedelta(minutes=2))
    await store.release("k3", mine)
    later = now + dt.timedelta(minutes=3)
    assert await store.lease("k3", later)  # a created row can be leased to finish it
    assert not await store.lease("k3", later)
    await store.mark_done("k3")
    assert not await store.lease("k3", now + dt.timedelta(minutes=9))


async def test_unknown_url_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        await open_submission_store("mysql://user:secret@db/x")
