"""FilingService over a real SQLite store and in-memory centres: the per-key locks
do not pile up, a transfer's source link is retried until written (once), and
reconcile never finishes a row another request is still completing."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from onedoor.model import Centre, LinkRecord, LinkRelation
from services.filing import FilingService, SubmissionStore, open_submission_store
from services.filing.locks import KeyLocks
from services.filing.service import draft_from_json, draft_to_json
from services.triage import Decision as Route

from .fakes import CLERK, AuditSink, WritableFake, filing, pending_row, writable_centres

NOW = dt.datetime.now(dt.UTC)


@pytest_asyncio.fixture
async def store(tmp_path: Path) -> AsyncIterator[SubmissionStore]:
    opened = await open_submission_store(f"sqlite:///{tmp_path / 'submissions.sqlite'}")
    try:
        yield opened
    finally:
        await opened.aclose()


def service(store: SubmissionStore, centres: dict[Centre, WritableFake], audit: AuditSink | None = None,
            **kwargs: float) -> FilingService:
    return FilingService(store, centres, audit or AuditSink(), **kwargs)


async def test_locks_do_not_grow_with_distinct_keys(store: SubmissionStore) -> None:
    centres = writable_centres()
    svc = service(store, centres)
    for i in range(200):
        await svc.submit(CLERK, filing(description=f"第{i}件"), f"distinct-key-{i:04d}", request_id=f"r{i}")
    assert len(svc._locks) == 0
    assert await store.count() == 200
    # concurrent retries of one key still share one lock: one create, then nothing kept
    results = await asyncio.gather(*(svc.submit(CLERK, filing(), "same-key-0001", request_id="r")
                                     for _ in range(20)))
    assert len({r.submission.receipt for r in results}) == 1
    assert centres[Centre.MEDIATION].creates == 201
    assert len(svc._locks) == 0


async def test_key_locks_forget_a_key_even_when_a_waiter_is_cancelled() -> None:
    locks = KeyLocks()
    entered = asyncio.Event()
    release = asyncio.Event()

    async def holder() -> None:
        async with locks.hold("k"):
            entered.set()
            await release.wait()

    async def waiter() -> None:
        async with locks.hold("k"):
            pass

    first = asyncio.create_task(holder())
    await entered.wait()
    second = asyncio.create_task(waiter())
    await asyncio.sleep(0)  # the waiter queues on the lock
    assert locks.busy("k")
    second.cancel()
    with pytest.raises(asyncio.CancelledError):
        await second
    assert locks.busy("k")  # the holder still has it
    release.set()
    await first
    assert not locks.busy("k") and len(locks) == 0


def _transfer_route() -> Route:
    return Route(Centre.PETITIONS, "TRANSFER", "MATTER", "转办 / transferred", "v1", None)


async def test_transfer_link_waits_for_the_source_centre_then_is_written_once(store: SubmissionStore) -> None:
    centres = writable_centres()
    source = centres[Centre.MEDIATION].seed("TJ-1")
    audit = AuditSink()
    svc = service(store, centres, audit)
    back = LinkRecord(LinkRelation.TRANSFERRED_FROM, Centre.MEDIATION, source.native_id)
    centres[Centre.MEDIATION].down = True
    filed = await svc.submit(CLERK, filing(links=(back,)), "transfer:TJ-1:PETITIONS", request_id="r1",
                             route=_transfer_route(), source="global-TJ-1")
    assert filed.record is not None and filed.record.links == (back,)
    assert filed.link_error is not None and filed.link_error.code == "CENTRE_UNAVAILABLE"
    row = await store.by_receipt(filed.submission.receipt)
    assert row is not None and row.state == "created" and row.lease_until is None  # given back
    assert [e.outcome for e in audit.entries] == ["partial"]
    assert ("deny", "link:CENTRE_UNAVAILABLE", "MEDIATION") in {
        (d.effect, d.reason, d.centre) for d in audit.entries[0].decisions}

    assert await svc.reconcile() == 0  # still down: logged, nothing audited, still created
    assert len(audit.entries) == 1
    centres[Centre.MEDIATION].down = False
    assert await svc.reconcile() == 1
    here = LinkRecord(LinkRelation.TRANSFERRED_TO, Centre.PETITIONS, filed.record.native_id)
    assert centres[Centre.MEDIATION].records["TJ-1"].links == (here,)
    done = await store.by_receipt(filed.submission.receipt)
    assert done is not None and done.state == "done"
    assert audit.entries[-1].outcome == "reconciled" and "MEDIATION" in audit.entries[-1].centres
    assert await svc.reconcile() == 0  # nothing left
    writes = centres[Centre.MEDIATION].link_writes
    again = await svc.submit(CLERK, filing(links=(back,)), "transfer:TJ-1:PETITIONS", request_id="r2",
                             route=_transfer_route(), source="global-TJ-1")
    assert again.replayed and again.link_error is None
    assert centres[Centre.MEDIATION].link_writes == writes  # a done row writes nothing again
    assert centres[Centre.PETITIONS].creates == 1


async def test_a_retry_finishes_a_created_transfer_itself(store: SubmissionStore) -> None:
    centres = writable_centres()
    centres[Centre.MEDIATION].seed("TJ-2")
    svc = service(store, centres)
    back = LinkRecord(LinkRelation.TRANSFERRED_FROM, Centre.MEDIATION, "TJ-2")
    centres[Centre.MEDIATION].down = True
    first = await svc.submit(CLERK, filing(links=(back,)), "transfer:TJ-2:PETITIONS", request_id="r1",
                             route=_transfer_route(), source="g")
    assert first.link_error is not None
    centres[Centre.MEDIATION].down = False
    retry = await svc.submit(CLERK, filing(links=(back,)), "transfer:TJ-2:PETITIONS", request_id="r2",
                             route=_transfer_route(), source="g")
    assert retry.replayed and retry.link_error is None
    assert retry.submission.receipt == first.submission.receipt
    row = await store.by_receipt(first.submission.receipt)
    assert row is not None and row.state == "done"
    assert len(centres[Centre.MEDIATION].records["TJ-2"].links) == 1


async def test_reconcile_leaves_rows_a_request_is_completing(store: SubmissionStore) -> None:
    centres = writable_centres()
    svc = service(store, centres)
    past, future = NOW - dt.timedelta(minutes=5), NOW + dt.timedelta(hours=1)
    await store.claim(pending_row("expired", Centre.MEDIATION, lease_until=past))
    await store.claim(pending_row("elsewhere", Centre.MEDIATION, lease_until=future))  # another process
    await store.claim(pending_row("here", Centre.MEDIATION, lease_until=past))
    async with svc._locks.hold("here"):  # a request of this process holds the key
        assert await svc.reconcile() == 1
    states = {k: (await store.get(k)) for k in ("expired", "elsewhere", "here")}
    assert {k: s.state for k, s in states.items() if s} == {
        "expired": "done", "elsewhere": "pending", "here": "pending"}
    assert centres[Centre.MEDIATION].creates == 1
    assert await svc.reconcile() == 1  # once the key is free, its expired lease makes it fair game
    here = await store.get("here")
    assert here is not None and here.state == "done"
    elsewhere = await store.get("elsewhere")
    assert elsewhere is not None and elsewhere.state == "pending"
    assert centres[Centre.MEDIATION].creates == 2


async def test_reconcile_does_not_retry_a_failed_row(store: SubmissionStore) -> None:
    centres = writable_centres()
    svc = service(store, centres)
    await store.claim(pending_row("failed", Centre.MEDIATION, lease_until=None))
    await store.mark_failed("failed", "CENTRE_UNAVAILABLE")
    assert await svc.reconcile() == 0
    row = await store.get("failed")
    assert row is not None and row.state == "failed" and centres[Centre.MEDIATION].creates == 0


def test_drafts_stored_before_links_still_load() -> None:
    linked = draft_from_json(draft_to_json(draft_from_json(pending_row(
        "k", Centre.MEDIATION, lease_until=None,
        draft_links=(LinkRecord(LinkRelation.TRANSFERRED_FROM, Centre.PETITIONS, "XF-1"),)).draft)))
    assert linked.links == (LinkRecord(LinkRelation.TRANSFERRED_FROM, Centre.PETITIONS, "XF-1"),)
    old = json.loads(pending_row("k", Centre.MEDIATION, lease_until=None).draft)
    del old["links"]
    assert draft_from_json(json.dumps(old)).links == ()


def test_links_do_not_change_a_filings_fingerprint() -> None:
    back = LinkRecord(LinkRelation.TRANSFERRED_FROM, Centre.MEDIATION, "TJ-1")
    assert filing(links=(back,)).fingerprint() == filing().fingerprint()
    assert dataclasses.replace(filing(), description="别的").fingerprint() != filing().fingerprint()


def test_only_a_centres_answer_of_no_counts_as_refused() -> None:
    from connectors.errors import CentreBadResponse, CentreThrottled, CentreTimeout, CentreUnavailable
    from services.filing import refused

    assert refused(CentreBadResponse(Centre.MEDIATION, http_status=400))
    assert refused(CentreBadResponse(Centre.MEDIATION, http_status=404))
    assert not refused(CentreBadResponse(Centre.MEDIATION, http_status=200))  # garbage: may be transient
    assert not refused(CentreBadResponse(Centre.MEDIATION))
    assert not refused(CentreBadResponse(Centre.MEDIATION, http_status=429))
    assert not refused(CentreThrottled(Centre.MEDIATION, http_status=429))
    assert not refused(CentreUnavailable(Centre.MEDIATION, http_status=503))
    assert not refused(CentreTimeout(Centre.MEDIATION))


async def test_reconcile_marks_a_refused_create_failed_instead_of_retrying(store: SubmissionStore) -> None:
    centres = writable_centres()
    audit = AuditSink()
    svc = service(store, centres, audit)
    await store.claim(pending_row("refused", Centre.MEDIATION, lease_until=NOW - dt.timedelta(minutes=5)))
    centres[Centre.MEDIATION].refuse = True
    assert await svc.reconcile() == 0
    row = await store.get("refused")
    assert row is not None and row.state == "failed"
    assert [e.outcome for e in audit.entries] == ["failed"]
    assert ("deny", "centre:CENTRE_BAD_RESPONSE") in {(d.effect, d.reason) for d in audit.entries[0].decisions}
    assert await svc.reconcile() == 0  # not tried again
    assert len(audit.entries) == 1


async def test_a_link_the_source_refuses_finishes_the_row_with_the_refusal_audited(
        store: SubmissionStore) -> None:
    centres = writable_centres()
    centres[Centre.MEDIATION].seed("TJ-9")
    audit = AuditSink()
    svc = service(store, centres, audit)
    back = LinkRecord(LinkRelation.TRANSFERRED_FROM, Centre.MEDIATION, "TJ-9")
    centres[Centre.MEDIATION].down = True
    filed = await svc.submit(CLERK, filing(links=(back,)), "transfer:TJ-9:PETITIONS", request_id="r1",
                             route=_transfer_route(), source="g")
    assert filed.link_error is not None and filed.submission.state == "created"
    del centres[Centre.MEDIATION].records["TJ-9"]  # the source record is gone meanwhile
    centres[Centre.MEDIATION].down = False
    assert await svc.reconcile() == 1
    row = await store.by_receipt(filed.submission.receipt)
    assert row is not None and row.state == "done"
    assert audit.entries[-1].outcome == "partial"
    assert ("deny", "link:CENTRE_BAD_RESPONSE", "MEDIATION") in {
        (d.effect, d.reason, d.centre) for d in audit.entries[-1].decisions}
    writes = centres[Centre.MEDIATION].link_writes
    assert await svc.reconcile() == 0 and centres[Centre.MEDIATION].link_writes == writes
