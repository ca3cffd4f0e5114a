"""An administrator with database access cannot quietly rewrite the audit trail.

Each attack from the security review, on SQLite and PostgreSQL: the chain alone
still agrees with itself (asserted where it does), and `onedoor audit verify`
against the signed checkpoints fails and names what it found.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import stat
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import asyncpg
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gateway.app import create_app
from gateway.cli import main
from services.audit import (
    DEFAULT_RETENTION,
    Anchor,
    AuditEntry,
    ChainState,
    ChainStore,
    Checkpoint,
    Checkpointer,
    FileWitness,
    VerifyResult,
    Witness,
    load_signing_key,
    open_audit_store,
    open_witness,
    verify_audit,
)
from services.audit.record import format_time
from services.audit.witness import PurgeNote, Tail
from tests.gateway.harness import CENTRES_TOML, settings
from tests.schema.test_query import _centres
from tests.services.audit import conftest as audit_conftest
from tests.services.audit.conftest import Backend

backend = audit_conftest.backend  # the same SQLite + PostgreSQL fixture as tests/services/audit

WHISTLEBLOWER = "11010519491231002X"
OTHER = "63012119800101123X"
UTC = dt.UTC


@dataclass
class Signed:
    """A store, its checkpointer and witness, as the gateway sets them up."""

    url: str
    store: ChainStore
    checkpointer: Checkpointer
    witness: Witness
    key_file: Path

    async def verify(self, *, public_key: Ed25519PublicKey | None = None,
                     retention: dt.timedelta = DEFAULT_RETENTION) -> VerifyResult:
        return await verify_audit(self.url, self.witness, public_key=public_key,
                                  retention=retention)


@pytest.fixture
async def witness(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Witness]:
    """A witness file unless a test asks for ``postgres`` (another schema: another owner)."""
    if getattr(request, "param", "file") == "file":
        yield FileWitness(tmp_path / "witness.jsonl")
        return
    base: str = request.getfixturevalue("postgres_url")
    schema = f"witness_test_{uuid.uuid4().hex[:12]}"
    yield open_witness(f"{base}?schema={schema}")
    conn = await asyncpg.connect(base)
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    finally:
        await conn.close()


@pytest.fixture
async def signed(backend: Backend, witness: Witness, tmp_path: Path) -> AsyncIterator[Signed]:
    store = await open_audit_store(backend.url)
    key_file = tmp_path / "keys" / "audit-signing-key.pem"
    key = load_signing_key(key_file, create=True)
    opened = Signed(backend.url, store, Checkpointer(store, key, witness), witness, key_file)
    yield opened
    await opened.store.aclose()


def entry(n: int, *, citizen: str = WHISTLEBLOWER, at: dt.datetime | None = None) -> AuditEntry:
    return AuditEntry(sub=f"caseworker-{n}", client_id="portal", operation_name="Trace",
                      document_hash=None, purpose="case 17", citizens=(citizen,), result_count=n,
                      at=at)


async def fill(store: ChainStore, count: int, *, citizen: str = WHISTLEBLOWER,
               at: dt.datetime | None = None) -> None:
    for n in range(count):
        await store.append(entry(n, citizen=citizen, at=at))


def kinds(result: VerifyResult) -> set[str]:
    return {f.kind for f in result.findings}


@pytest.mark.parametrize("witness", ["file", "postgres"], indirect=True)
async def test_an_untampered_chain_verifies_against_its_checkpoints(signed: Signed) -> None:
    assert await signed.checkpointer.checkpoint("start") is not None
    await fill(signed.store, 5)
    assert (await signed.checkpointer.checkpoint()) is not None
    assert await signed.checkpointer.checkpoint() is None  # nothing moved: no new line
    await fill(signed.store, 3)
    await signed.checkpointer.checkpoint()
    await fill(signed.store, 2)  # after the latest checkpoint: still verified as a chain
    result = await signed.verify()
    assert result == VerifyResult(ok=True, checked=10, checkpoints=3)
    lines = [json.loads(line) for line in (await signed.witness.lines() or [])]
    assert [(c["n"], c["kind"], c["seq"]) for c in lines] == [(1, "start", 0), (2, "interval", 5),
                                                               (3, "interval", 8)]
    assert all(set(c) >= {"identity", "hash", "count", "at", "key", "sig", "prev"} for c in lines)


@pytest.mark.parametrize("witness", ["file", "postgres"], indirect=True)
async def test_truncating_the_tail_and_moving_the_head(signed: Signed, backend: Backend) -> None:
    await fill(signed.store, 6)
    await signed.checkpointer.checkpoint()
    await backend.execute(
        "DELETE FROM audit_citizen WHERE seq > 3", "DELETE FROM audit_record WHERE seq > 3",
        "UPDATE audit_head SET seq = 3, hash = (SELECT hash FROM audit_record WHERE seq = 3)")
    assert (await signed.store.verify()).ok  # the chain alone cannot tell
    result = await signed.verify()
    assert not result.ok and kinds(result) == {"truncated"}
    assert result.reason is not None and "records 4..6 were cut off" in result.reason
    assert await signed.checkpointer.checkpoint() is None  # never signs over it
    assert signed.checkpointer.refused is not None and "ends at 3" in signed.checkpointer.refused


async def test_editing_a_record_and_recomputing_the_chain_forward(
    signed: Signed, backend: Backend
) -> None:
    await fill(signed.store, 6)
    await signed.checkpointer.checkpoint()
    records, _ = await signed.store.query(None, first=100)
    statements, prev = [], records[0].prev_hash
    for record in records:  # no key is needed to recompute every hash after the edit
        forged = replace(record, prev_hash=prev,
                         purpose="nothing to see" if record.seq == 2 else record.purpose)
        forged = replace(forged, hash=forged.computed_hash())
        statements.append(f"UPDATE audit_record SET purpose = '{forged.purpose}', "
                          f"prev_hash = '{forged.prev_hash}', hash = '{forged.hash}' "
                          f"WHERE seq = {record.seq}")
        prev = forged.hash
    statements.append(f"UPDATE audit_head SET hash = '{prev}'")
    await backend.execute(*statements)
    assert (await signed.store.verify()).ok  # internally consistent
    result = await signed.verify()
    assert not result.ok and kinds(result) == {"rewritten"}
    assert result.first_broken_seq == 6 and "rewritten" in (result.reason or "")


async def test_replacing_the_database_with_a_fresh_one(signed: Signed, backend: Backend,
                                                       tmp_path: Path) -> None:
    await fill(signed.store, 4)
    await signed.checkpointer.checkpoint()
    await signed.store.aclose()
    if backend.kind == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(backend.url.removeprefix("sqlite:///") + suffix)
    else:
        dsn, _, schema = backend.url.partition("?schema=")
        conn = await asyncpg.connect(dsn)
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
        await conn.close()
    fresh = signed.store = await open_audit_store(backend.url)
    await fill(fresh, 6)  # a plausible, intact, longer chain
    assert (await fresh.verify()).ok
    result = await signed.verify()
    assert not result.ok and "replaced" in kinds(result)
    assert "was replaced" in (result.reason or "")


async def test_deleting_a_citizens_index_rows(signed: Signed, backend: Backend) -> None:
    await fill(signed.store, 14)
    await fill(signed.store, 2, citizen=OTHER)
    await signed.checkpointer.checkpoint()
    assert len((await signed.store.query(WHISTLEBLOWER, first=100))[0]) == 14
    await backend.execute(f"DELETE FROM audit_citizen WHERE citizen_id = '{WHISTLEBLOWER}'")
    assert (await signed.store.query(WHISTLEBLOWER, first=100))[0] == []  # auditTrail: 0 entries
    chain_only = await signed.store.verify()  # covered by the chain: no checkpoint needed
    assert not chain_only.ok and kinds(chain_only) == {"index"}
    result = await signed.verify()
    assert not result.ok and kinds(result) == {"index"}
    assert "lacks 14 entries" in (result.reason or "") and WHISTLEBLOWER not in (result.reason or "")


async def test_adding_index_rows_is_found_too(signed: Signed, backend: Backend) -> None:
    await fill(signed.store, 3, citizen=OTHER)
    await backend.execute(f"INSERT INTO audit_citizen (citizen_id, seq) VALUES ('{WHISTLEBLOWER}', 2)",
                          f"INSERT INTO audit_citizen (citizen_id, seq) VALUES ('{WHISTLEBLOWER}', 9)")
    result = await signed.store.verify()
    assert kinds(result) == {"index"} and "2 entries no record names" in (result.reason or "")


@pytest.mark.parametrize("how", ["sql", "unsigned-api"])
async def test_purging_beyond_retention(signed: Signed, backend: Backend, how: str) -> None:
    await fill(signed.store, 6)  # written today: years inside the retention period
    await signed.checkpointer.checkpoint()
    if how == "sql":
        await backend.execute(
            "INSERT INTO audit_anchor (id, seq, hash, last_at, purged_at) SELECT 1, seq, hash, at, "
            "at FROM audit_record WHERE seq = 4",
            "DELETE FROM audit_citizen WHERE seq <= 4", "DELETE FROM audit_record WHERE seq <= 4")
    else:  # the store's own purge, bypassing the signed retention path
        assert await signed.store.purge_older_than(dt.datetime.now(UTC)) == 6
    assert (await signed.store.verify()).ok  # the anchor keeps the chain verifiable
    result = await signed.verify()
    assert not result.ok and kinds(result) == {"purged"}
    assert "purge beyond retention" in (result.reason or "")
    assert await signed.checkpointer.checkpoint() is None


async def test_a_signed_purge_inside_the_retention_period(signed: Signed, tmp_path: Path) -> None:
    """A gateway configured (or coerced) to purge early still cannot make it look legitimate."""
    await fill(signed.store, 3, at=dt.datetime.now(UTC) - dt.timedelta(days=30))
    await fill(signed.store, 2)
    hasty = Checkpointer(signed.store, load_signing_key(signed.key_file), signed.witness,
                         retention=dt.timedelta(days=7))
    assert await hasty.purge_expired() == 3
    result = await signed.verify()
    assert not result.ok and kinds(result) == {"purged"}
    assert "inside the 1096-day retention period" in (result.reason or "")
    assert (await signed.verify(retention=dt.timedelta(days=7))).ok


@pytest.mark.parametrize("witness", ["file", "postgres"], indirect=True)
async def test_a_legitimate_retention_purge_verifies(signed: Signed) -> None:
    old = dt.datetime(2020, 1, 1, tzinfo=UTC)
    for n in range(4):
        await signed.store.append(entry(n, at=old + dt.timedelta(days=n)))
    await signed.checkpointer.checkpoint("start")
    await fill(signed.store, 3)
    await signed.checkpointer.checkpoint()
    assert await signed.checkpointer.purge_expired() == 4
    assert await signed.checkpointer.purge_expired() == 0
    await fill(signed.store, 2)
    await signed.checkpointer.checkpoint()
    result = await signed.verify()
    assert result.ok and result.checked == 5 and result.checkpoints == 4
    purge = json.loads((await signed.witness.lines() or [])[2])
    assert purge["kind"] == "purge" and purge["purge"]["first"] == 1 and purge["purge"]["last"] == 4
    assert purge["anchor_seq"] == 4


async def test_a_forged_or_foreign_checkpoint_is_refused(signed: Signed, tmp_path: Path) -> None:
    await fill(signed.store, 3)
    await signed.checkpointer.checkpoint()
    path = tmp_path / "witness.jsonl"
    line = json.loads(path.read_text())
    path.write_text(json.dumps(line | {"seq": 2}) + "\n")  # edited without the key
    result = await signed.verify()
    assert not result.ok and "witness" in kinds(result)
    other = Checkpointer(signed.store, Ed25519PrivateKey.generate(), FileWitness(path))
    path.unlink()
    await other.checkpoint()  # a whole new witness under an attacker's own key
    result = await signed.verify(public_key=load_signing_key(signed.key_file).public_key())
    assert not result.ok and "another key" in (result.reason or "")


async def test_a_deleted_database_with_a_witness_is_not_intact(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'audit.sqlite'}"
    store = await open_audit_store(url)
    witness = FileWitness(tmp_path)  # a directory: checkpoints.jsonl inside
    await fill(store, 2)
    await Checkpointer(store, Ed25519PrivateKey.generate(), witness).checkpoint()
    await store.aclose()
    (tmp_path / "audit.sqlite").unlink()
    result = await verify_audit(url, witness)
    assert not result.ok and kinds(result) == {"replaced"}
    assert (tmp_path / "checkpoints.jsonl").is_file()


_CONFIG = """
mode = "production"
state_dir = "{state}"
[audit]
url = "{url}"
signing_key = "{key}"
witness = "{witness}"
""" + CENTRES_TOML  # no braces: safe inside str.format


async def test_the_cli_names_the_finding(
    signed: Signed, backend: Backend, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "onedoor.toml"
    config.write_text(_CONFIG.format(state=tmp_path / "state", url=backend.url, key=signed.key_file,
                                     witness=tmp_path / "witness.jsonl"))
    await fill(signed.store, 5)
    await signed.checkpointer.checkpoint()
    assert await _cli(["audit", "verify", "--config", str(config)]) == 0
    assert "ok: 5 records, chain and index intact, held against 1 signed checkpoints" in \
        capsys.readouterr().out
    await backend.execute(
        "DELETE FROM audit_citizen WHERE seq > 2", "DELETE FROM audit_record WHERE seq > 2",
        "UPDATE audit_head SET seq = 2, hash = (SELECT hash FROM audit_record WHERE seq = 2)")
    assert await _cli(["audit", "verify", "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert "truncated: " in err and "records 3..5 were cut off" in err
    public = tmp_path / "audit.pub"
    public.write_bytes(load_signing_key(signed.key_file).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    assert await _cli(["audit", "verify", "--config", str(config), "--public-key", str(public)]) == 1
    missing = tmp_path / "nowhere.jsonl"
    assert await _cli(["audit", "verify", "--config", str(config), "--witness", str(missing)]) == 1
    assert "no witness at" in capsys.readouterr().err


async def _cli(argv: list[str]) -> int:
    """`main` runs its own event loop: give it a thread of its own."""
    return await asyncio.to_thread(main, argv)


async def test_the_gateway_signs_at_start_and_shutdown(tmp_path: Path) -> None:
    state = tmp_path / "state"
    config = settings(mode="demo", state_dir=state,
                      audit={"url": f"sqlite:///{state / 'audit.sqlite'}", "checkpoint_seconds": 0.05})

    async def deny(_: str) -> object:
        raise AssertionError("no token expected")

    app = create_app(config, _centres(), deny, close_connectors=False)  # type: ignore[arg-type]
    witness_file = state / "audit-witness.jsonl"
    async with app.router.lifespan_context(app):
        other = await open_audit_store(f"sqlite:///{state / 'audit.sqlite'}")  # another worker
        await fill(other, 3)
        await other.aclose()
        for _ in range(200):  # the interval loop signs the new head
            if witness_file.exists() and '"seq":3' in witness_file.read_text():
                break
            await asyncio.sleep(0.02)
        else:
            pytest.fail("no interval checkpoint")
    key = state / "audit-signing-key.pem"
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    lines = [json.loads(line) for line in (state / "audit-witness.jsonl").read_text().splitlines()]
    assert lines[-1]["kind"] == "shutdown"
    result = await verify_audit(f"sqlite:///{state / 'audit.sqlite'}",
                                FileWitness(state / "audit-witness.jsonl"))
    assert result.ok and result.checkpoints == len(lines)
    assert await _cli(["audit", "verify", "--state-dir", str(state)]) == 0


async def test_production_without_a_signing_key_does_not_checkpoint(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state = tmp_path / "state"
    config = settings(state_dir=state, audit={"url": f"sqlite:///{state / 'audit.sqlite'}"})

    async def deny(_: str) -> object:
        raise AssertionError("no token expected")

    app = create_app(config, _centres(), deny, close_connectors=False)  # type: ignore[arg-type]
    async with app.router.lifespan_context(app):
        pass
    assert not (state / "audit-witness.jsonl").exists()
    assert "signing_key" in caplog.text


async def test_the_postgres_witness_is_append_only(postgres_url: str) -> None:
    schema = f"witness_test_{uuid.uuid4().hex[:12]}"
    witness = open_witness(f"{postgres_url}?schema={schema}")
    store = await open_audit_store(f"{postgres_url}?schema={schema}_audit")
    try:
        await fill(store, 2)
        checkpointer = Checkpointer(store, Ed25519PrivateKey.generate(), witness)
        assert await checkpointer.checkpoint() is not None
        conn = await asyncpg.connect(postgres_url, server_settings={"search_path": schema})
        try:
            with pytest.raises(asyncpg.RaiseError, match="append-only"):
                await conn.execute("DELETE FROM audit_witness")
            with pytest.raises(asyncpg.RaiseError, match="append-only"):
                await conn.execute("UPDATE audit_witness SET line = ''")
        finally:
            await conn.close()
        assert (await verify_audit(f"{postgres_url}?schema={schema}_audit", witness)).ok
    finally:
        await store.aclose()
        conn = await asyncpg.connect(postgres_url)
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE; "
                           f"DROP SCHEMA IF EXISTS {schema}_audit CASCADE")
        await conn.close()


async def test_a_cancelled_checkpoint_leaves_no_lock_behind(tmp_path: Path) -> None:
    store = await open_audit_store(f"sqlite:///{tmp_path / 'audit.sqlite'}")
    try:
        checkpointer = Checkpointer(store, Ed25519PrivateKey.generate(), FileWitness(tmp_path))
        for delay in (0, 0.0005, 0.001, 0.005):
            await store.append(entry(0))
            task = asyncio.create_task(checkpointer.checkpoint())
            await asyncio.sleep(delay)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await asyncio.wait_for(checkpointer.checkpoint("start"), 5)  # would hang on a leaked flock
        result = await verify_audit(f"sqlite:///{tmp_path / 'audit.sqlite'}", FileWitness(tmp_path))
        assert result.ok
    finally:
        await store.aclose()


async def test_replicas_with_their_own_witnesses_accept_each_others_signed_purges(
    signed: Signed, backend: Backend, tmp_path: Path
) -> None:
    """Replica B purges (signed into B's witness and kept with the anchor); replica A,
    whose witness never saw it, still signs on, and verify against A's witness is ok."""
    key = load_signing_key(signed.key_file)
    replica_b = Checkpointer(signed.store, key, FileWitness(tmp_path / "witness-b.jsonl"))
    old = dt.datetime(2020, 1, 1, tzinfo=UTC)
    await fill(signed.store, 3, at=old)
    await fill(signed.store, 2)
    await signed.checkpointer.checkpoint()
    assert await replica_b.purge_expired() == 3
    await fill(signed.store, 1)
    assert await signed.checkpointer.checkpoint() is not None, signed.checkpointer.refused
    assert (await signed.verify()).ok
    assert (await verify_audit(signed.url, replica_b.witness)).ok
    # The note kept with the anchor is no free pass: one signed by another key does not count.
    (fourth,), _ = await signed.store.query(None, first=1)
    state = await signed.store.state()
    rogue = Checkpoint.of(ChainState(state.identity, state.head, Anchor(fourth.seq, fourth.hash)),
                          kind="purge", tail=Tail(None, _discard), key=Ed25519PrivateKey.generate(),
                          now=dt.datetime.now(UTC),
                          purge=PurgeNote(4, 4, format_time(old), format_time(old)))
    await backend.execute(
        "DELETE FROM audit_citizen WHERE seq <= 4", "DELETE FROM audit_record WHERE seq <= 4",
        f"UPDATE audit_anchor SET seq = 4, hash = '{fourth.hash}'",
        f"INSERT INTO audit_purge (seq, checkpoint) VALUES (4, '{rogue.line()}')")
    result = await signed.verify()
    assert not result.ok and kinds(result) == {"purged"}
    assert await signed.checkpointer.checkpoint() is None


async def _discard(_: str) -> None:
    """A tail that stores nothing: the rogue checkpoint goes only into the database."""
