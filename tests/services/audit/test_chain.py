"""The audit chain: append, query, verify, tamper detection, concurrency, retention."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from services.audit import (
    GENESIS_HASH,
    AuditEntry,
    AuditStore,
    Decision,
    decode_cursor,
    open_audit_store,
    verify_store,
)

from .conftest import Backend

ALICE = "11010519491231002X"
BOB = "63012119800101123X"
UTC = dt.UTC


def entry(n: int = 0, *, citizens: tuple[str, ...] = (ALICE,),
          at: dt.datetime | None = None) -> AuditEntry:
    return AuditEntry(
        sub=f"caseworker-{n}", client_id="portal", operation_name="Dashboard",
        document_hash="sha256:" + "ab" * 32, purpose="case 17", citizens=citizens,
        centres=("MEDIATION", "PETITIONS"), unmasked_fields=("Citizen.phone",),
        decisions=(Decision("deny", "no_scope", field="Matter.petitioner", centre="PETITIONS"),),
        result_count=n, outcome="ok", request_id=f"req-{n}", at=at,
    )


async def fill(store: AuditStore, count: int) -> None:
    for n in range(count):
        await store.append(entry(n))


async def test_append_chains_records(store: AuditStore) -> None:
    first = await store.append(entry(1))
    second = await store.append(entry(2, citizens=(BOB, "11010519491231002x")))
    assert (first.seq, first.prev_hash) == (1, GENESIS_HASH)
    assert (second.seq, second.prev_hash) == (2, first.hash)
    assert second.citizens == (ALICE, BOB)  # canonical, sorted, deduplicated
    assert first.at.tzinfo is not None
    assert await store.verify() == type(await store.verify())(ok=True, checked=2)


async def test_record_round_trips(store: AuditStore) -> None:
    written = await store.append(entry(7))
    (read,), _ = await store.query(ALICE)
    assert read == written
    assert read.decisions[0].field == "Matter.petitioner"


def test_entry_refuses_personal_data() -> None:
    with pytest.raises(ValueError):
        entry(citizens=("张三",))
    with pytest.raises(ValueError):
        AuditEntry(sub=None, client_id=None, operation_name=None, document_hash=None,
                   unmasked_fields=("phone=13812345678",))
    with pytest.raises(ValueError):
        entry(at=dt.datetime(2024, 1, 1))  # naive time


async def test_query_filters_and_pages(store: AuditStore) -> None:
    base = dt.datetime(2025, 1, 1, tzinfo=UTC)
    for n in range(7):
        await store.append(entry(n, citizens=(ALICE,) if n % 2 else (BOB,),
                                 at=base + dt.timedelta(days=n)))
    alice = [r.result_count for r in (await store.query(ALICE, first=100))[0]]
    assert alice == [1, 3, 5]
    page, cursor = await store.query(None, first=3)
    assert [r.seq for r in page] == [1, 2, 3] and cursor is not None
    page, cursor = await store.query(None, first=3, after=cursor)
    assert [r.seq for r in page] == [4, 5, 6]
    page, cursor = await store.query(None, first=3, after=cursor)
    assert [r.seq for r in page] == [7] and cursor is None
    window, _ = await store.query(BOB, since=base + dt.timedelta(days=2),
                                  until=base + dt.timedelta(days=6))
    assert [r.result_count for r in window] == [2, 4]
    with pytest.raises(ValueError):
        await store.query(ALICE, after="bm9wZQ")
    with pytest.raises(ValueError):
        await store.query(ALICE, first=0)
    assert decode_cursor(None) == 0


async def test_records_are_append_only(store: AuditStore, backend: Backend) -> None:
    await fill(store, 2)
    if backend.kind == "sqlite":
        import sqlite3

        conn = sqlite3.connect(backend.url.removeprefix("sqlite:///"))
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("UPDATE audit_record SET outcome = 'x' WHERE seq = 1")
        conn.close()
    else:
        import asyncpg

        dsn, _, schema = backend.url.partition("?schema=")
        pg = await asyncpg.connect(dsn, server_settings={"search_path": schema})
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await pg.execute("UPDATE audit_record SET outcome = 'x' WHERE seq = 1")
        await pg.close()


@pytest.mark.parametrize(
    ("statements", "broken_seq", "words"),
    [
        (["UPDATE audit_record SET result_count = 99 WHERE seq = 3"], 3, "altered"),
        (["UPDATE audit_record SET citizens = '[]' WHERE seq = 4"], 4, "altered"),
        (["DELETE FROM audit_record WHERE seq = 3"], 3, "missing"),
        (["UPDATE audit_record SET seq = 100 WHERE seq = 2",
          "UPDATE audit_record SET seq = 2 WHERE seq = 4",
          "UPDATE audit_record SET seq = 4 WHERE seq = 100"], 2, "link"),
        (["DELETE FROM audit_record WHERE seq = 5"], 5, "missing"),
        (["UPDATE audit_head SET seq = 3"], 3, "head"),
        (["UPDATE audit_record SET prev_hash = hash WHERE seq = 2"], 2, "link"),
    ],
    ids=["edit", "edit-citizens", "delete", "swap", "truncate-tail", "head", "relink"],
)
async def test_tampering_is_detected(
    store: AuditStore, backend: Backend, statements: list[str], broken_seq: int, words: str
) -> None:
    await fill(store, 5)
    assert (await store.verify()).ok
    await backend.execute(*statements)
    result = await store.verify()
    assert not result.ok
    assert result.first_broken_seq == broken_seq
    assert result.reason is not None and words in result.reason
    cli = await verify_store(backend.url)
    assert (cli.ok, cli.first_broken_seq) == (False, broken_seq)


async def test_rehashed_edit_breaks_the_next_link(store: AuditStore, backend: Backend) -> None:
    """An attacker who recomputes the edited record's own hash still breaks the chain."""
    await fill(store, 4)
    (victim,), _ = await store.query(None, first=1, after=None)
    from dataclasses import replace

    forged = replace(victim, purpose="nothing to see")
    forged = replace(forged, hash=forged.computed_hash())
    await backend.execute(
        f"UPDATE audit_record SET purpose = 'nothing to see', hash = '{forged.hash}' WHERE seq = 1")
    result = await store.verify()
    assert (result.ok, result.first_broken_seq) == (False, 2)


async def test_concurrent_appends_form_one_chain(store: AuditStore) -> None:
    records = await asyncio.gather(*(store.append(entry(n)) for n in range(50)))
    assert sorted(r.seq for r in records) == list(range(1, 51))
    assert (await store.verify()).checked == 50


async def test_two_processes_share_one_chain(store: AuditStore, backend: Backend) -> None:
    other = await open_audit_store(backend.url)
    try:
        await asyncio.gather(*(s.append(entry(n)) for n in range(20) for s in (store, other)))
    finally:
        await other.aclose()
    result = await store.verify()
    assert result.ok and result.checked == 40


async def test_retention_purge_keeps_chain_verifiable(store: AuditStore, backend: Backend) -> None:
    old = dt.datetime(2020, 1, 1, tzinfo=UTC)
    for n in range(4):
        await store.append(entry(n, at=old + dt.timedelta(days=n)))
    await store.append(entry(9, at=dt.datetime(2025, 1, 1, tzinfo=UTC)))
    await store.append(entry(10, at=old))  # older, but after a kept record: stays
    assert await store.purge_older_than(dt.datetime(2024, 1, 1, tzinfo=UTC)) == 4
    assert await store.purge_older_than(dt.datetime(2024, 1, 1, tzinfo=UTC)) == 0
    result = await store.verify()
    assert result.ok and result.checked == 2
    assert [r.seq for r in (await store.query(None))[0]] == [5, 6]
    await store.append(entry(11))
    assert (await store.verify()).ok
    assert await store.purge_older_than(dt.datetime.now(UTC) + dt.timedelta(days=1)) == 3
    result = await store.verify()
    assert result.ok and result.checked == 0
    await store.append(entry(12))
    assert (await store.verify()).ok
    await backend.execute("DELETE FROM audit_anchor")
    result = await store.verify()
    assert (result.ok, result.first_broken_seq) == (False, 1)


async def test_writable_and_verify_store(store: AuditStore, backend: Backend) -> None:
    assert await store.writable()
    await fill(store, 3)
    result = await verify_store(backend.url)
    assert (result.ok, result.checked) == (True, 3)


async def test_verify_store_never_creates_a_trail(tmp_path: object) -> None:
    missing = await verify_store(f"sqlite:///{tmp_path}/nothing/audit.sqlite")
    assert not missing.ok and missing.reason is not None and "cannot open" in missing.reason
    unknown = await verify_store("mysql://user:secret@host/db")
    assert not unknown.ok and "secret" not in (unknown.reason or "")


async def test_closed_sqlite_store_is_not_writable(tmp_path: object) -> None:
    store = await open_audit_store(f"sqlite:///{tmp_path}/a.sqlite")
    await store.aclose()
    assert not await store.writable()
    with pytest.raises(RuntimeError):
        await store.append(entry())
