"""Signed checkpoints: what an administrator with database access cannot quietly rewrite.

The chain alone proves only that the records agree with each other. Whoever can
write the database can truncate the tail and move the head, edit a record and
recompute every hash after it, swap in a fresh database, or purge inside the
retention period — and the chain still agrees with itself. So the gateway signs
the head (Ed25519, key outside the database) every ``interval`` seconds, at
start and at shutdown, and appends each checkpoint to a witness the database's
owner does not control; retention purges are signed *before* the records go.

    checkpointer = Checkpointer(store, key, FileWitness(path), interval=60.0,
                                retention=DEFAULT_RETENTION)
    checkpointer.start()                     # "start" checkpoint, then the loop
    purged = await checkpointer.purge_expired()
    await checkpointer.stop()                # "shutdown" checkpoint

    result = await verify_audit(url, FileWitness(path))       # `onedoor audit verify`

Verify holds the chain against every checkpoint and names what it found:
``truncated``, ``rewritten``, ``replaced``, ``purged`` (beyond retention, or
without a signed purge), ``index``, ``broken`` and ``witness``. What it cannot
see: records written after the latest checkpoint (at most ``interval`` seconds'
worth), and anyone who holds both the signing key and the witness.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import logging
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .chain import ChainState, Vouched
from .record import GENESIS_HASH, Finding, VerifyResult, failed, format_time, parse_time
from .signing import public_key_from_text
from .store import DEFAULT_RETENTION, ChainStore, open_audit_store, redact_url
from .witness import Checkpoint, PurgeNote, Witness, read_checkpoints

__all__ = ["Checkpointer", "anchor_checkpoint", "judge", "verify_audit"]

log = logging.getLogger("onedoor.audit")
# Reported in this order: the cause before its consequences (a replaced database also
# looks truncated and rewritten; an unsigned purge also leaves vouched records missing).
_FIRST = ("witness", "replaced", "truncated", "purged", "rewritten", "broken", "index")


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Checkpointer:
    """Signs the chain head into the witness; the retention purge goes through it too."""

    def __init__(self, store: ChainStore, key: Ed25519PrivateKey, witness: Witness, *,
                 interval: float = 60.0, retention: dt.timedelta = DEFAULT_RETENTION,
                 clock: Callable[[], dt.datetime] = _utcnow) -> None:
        self.store = store
        self.witness = witness
        self.interval = interval
        self.retention = retention
        self._key = key
        self._clock = clock
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.refused: str | None = None  # why the last checkpoint was not signed

    async def checkpoint(self, kind: str = "interval") -> Checkpoint | None:
        """Sign the current head; ``interval`` checkpoints are skipped when nothing moved.
        Refuses (``None``, logged) a state that does not extend the last checkpoint."""
        async with self.witness.appending() as tail:
            state = await self.store.state()
            last = tail.last
            if (kind == "interval" and last is not None and last.identity == state.identity
                    and (last.seq, last.hash, last.anchor_seq) == (state.head.seq, state.head.hash,
                                                                  state.anchor.seq)):
                return None
            if not await self._extends(last, state):
                return None
            checkpoint = Checkpoint.of(state, kind=kind, tail=tail, key=self._key, now=self._clock())
            await tail.append(checkpoint)
            return checkpoint

    async def purge_expired(self) -> int:
        """Purge records older than the retention period, signing the purge first."""
        now = self._clock()
        cutoff = now - self.retention
        plan = await self.store.plan_purge(cutoff)
        if plan is None:
            return 0
        async with self.witness.appending() as tail:
            state = await self.store.state()
            if not await self._extends(tail.last, state):
                return 0
            note = PurgeNote(first=plan.first, last=plan.anchor.seq,
                             last_at=format_time(plan.last_at), cutoff=format_time(cutoff))
            after = ChainState(state.identity, state.head, plan.anchor)
            signed = Checkpoint.of(after, kind="purge", tail=tail, key=self._key, now=now,
                                   purge=note)
            await tail.append(signed)  # in the witness before a single record goes
            return await self.store.purge_through(plan.anchor, signed.line())

    async def _extends(self, last: Checkpoint | None, state: ChainState) -> bool:
        """Never sign over tampering: a state must continue the last checkpoint's chain."""
        problem = None
        if last is None:
            pass
        elif last.identity != state.identity:
            problem = "the audit database is not the one last checkpointed (replaced)"
        elif state.head.seq < last.seq:
            problem = f"the chain ends at {state.head.seq}, the last checkpoint had {last.seq}"
        elif ((state.anchor.seq > last.anchor_seq
               or (state.anchor.seq == last.anchor_seq and state.anchor.hash != last.anchor_hash))
              and anchor_checkpoint(state, self._key.public_key()) is None):
            # (a purge another replica signed into its own witness carries its checkpoint)
            problem = f"records up to {state.anchor.seq} were purged without a signed checkpoint"
        elif last.seq > state.anchor.seq and await self.store.hash_at(last.seq) != last.hash:
            problem = f"record {last.seq} no longer matches {last.label} (rewritten)"
        self.refused = problem
        if problem is not None:
            log.error("audit checkpoint refused: %s; run `onedoor audit verify`", problem)
        return problem is None

    def start(self) -> None:
        """Checkpoint every ``interval`` seconds (the first at once) until :meth:`stop`."""
        if self._task is None:
            self._stopping = asyncio.Event()
            self._task = asyncio.create_task(self._loop(self._stopping), name="audit-checkpointer")

    async def _loop(self, stopping: asyncio.Event) -> None:
        kind = "start"
        while not stopping.is_set():
            try:
                await self.checkpoint(kind)
            except Exception as exc:  # a full disk must not stop the next attempt
                log.error("audit checkpoint failed: %s: %s", type(exc).__name__, exc)
            kind = "interval"
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self.interval)

    async def stop(self, grace: float = 10.0) -> None:
        """Let a checkpoint under way finish (cancelled after ``grace`` seconds), then
        sign the head one last time."""
        task, self._task = self._task, None
        if task is not None:
            self._stopping.set()
            try:
                await asyncio.wait_for(asyncio.shield(task), grace)
            except TimeoutError:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        try:
            await self.checkpoint("shutdown")
        except Exception as exc:
            log.error("audit shutdown checkpoint failed: %s: %s", type(exc).__name__, exc)


def anchor_checkpoint(state: ChainState, key: Ed25519PublicKey) -> Checkpoint | None:
    """The signed purge checkpoint stored with the database's anchor, if it holds:
    signed by ``key``, a purge, of this database, ending exactly at this anchor."""
    if state.anchor_checkpoint is None:
        return None
    try:
        checkpoint = Checkpoint.parse(state.anchor_checkpoint)
    except ValueError:
        return None
    if (checkpoint.kind == "purge" and checkpoint.signed_by(key)
            and checkpoint.identity == state.identity
            and (checkpoint.anchor_seq, checkpoint.anchor_hash) == (state.anchor.seq,
                                                                    state.anchor.hash)):
        return checkpoint
    return None


def judge(state: ChainState, checkpoints: list[Checkpoint],
          retention: dt.timedelta = DEFAULT_RETENTION,
          anchor_signed: Checkpoint | None = None) -> list[Finding]:
    """What the signed checkpoints say about the database's current state (the
    per-record hashes are compared during the walk, see :func:`vouched`).
    ``anchor_signed``: the verified purge checkpoint the database keeps with its anchor."""
    findings: list[Finding] = []
    latest = checkpoints[-1]
    if state.identity != latest.identity:
        findings.append(Finding(
            "replaced", f"the audit database (identity {state.identity[:8] or 'none'}) is not the "
            f"one {latest.label} signed (identity {latest.identity[:8]}): it was replaced"))
    top = max(checkpoints, key=lambda c: c.seq)
    if state.head.seq < top.seq:
        findings.append(Finding(
            "truncated", f"the chain ends at record {state.head.seq} but {top.label} vouched for "
            f"{top.seq}: records {state.head.seq + 1}..{top.seq} were cut off", state.head.seq + 1))
    for before, after in itertools.pairwise(checkpoints):
        if after.identity != before.identity:
            findings.append(Finding("replaced", f"the database changed identity between "
                                                f"{before.label} and {after.label}: it was replaced"))
        if after.seq < before.seq:
            findings.append(Finding("truncated", f"{after.label} has fewer records ({after.seq}) "
                                                 f"than {before.label} ({before.seq})", after.seq + 1))
    purges = [*checkpoints, *([anchor_signed] if anchor_signed is not None else [])]
    signed_anchors = {(0, GENESIS_HASH)} | {(c.anchor_seq, c.anchor_hash) for c in purges}
    if (state.anchor.seq, state.anchor.hash) not in signed_anchors:
        findings.append(Finding(
            "purged", f"records up to {state.anchor.seq} were purged without a signed retention "
            f"checkpoint: purge beyond retention", state.anchor.seq))
    for c in purges:
        if c.purge is not None and (parse_time(c.purge.cutoff) > c.time - retention
                                    or parse_time(c.purge.last_at) >= parse_time(c.purge.cutoff)):
            findings.append(Finding(
                "purged", f"{c.label} purged records {c.purge.first}..{c.purge.last} (the last "
                f"written {c.purge.last_at}) inside the {retention.days}-day retention period",
                c.purge.first))
    return findings


def vouched(checkpoints: list[Checkpoint]) -> tuple[dict[int, Vouched], list[Finding]]:
    """Hash per seq as the checkpoints signed it; two different hashes for one seq is a rewrite."""
    expected: dict[int, Vouched] = {}
    findings: list[Finding] = []
    for c in checkpoints:
        for seq, hash_ in ((c.seq, c.hash), (c.anchor_seq, c.anchor_hash)):
            if seq == 0:
                continue
            seen = expected.setdefault(seq, Vouched(hash_, c.label))
            if seen.hash != hash_:
                findings.append(Finding("rewritten", f"{seen.label} and {c.label} signed different "
                                                     f"hashes for record {seq}: rewritten", seq))
    return expected, findings


async def verify_audit(
    url: str,
    witness: Witness | None,
    *,
    public_key: Ed25519PublicKey | None = None,
    retention: dt.timedelta = DEFAULT_RETENTION,
    require_checkpoints: bool = True,
) -> VerifyResult:
    """The chain, its index and the signed checkpoints: what ``onedoor audit verify`` runs.

    Without a witness (or, when ``require_checkpoints`` is false, an absent one) only
    the chain and index are checked — truncation with a moved head, a recomputed
    chain and a replaced database then go unseen.
    """
    findings: list[Finding] = []
    checkpoints: list[Checkpoint] = []
    lines = await witness.lines() if witness is not None else None
    if witness is not None and lines is None and require_checkpoints:
        findings.append(Finding("witness", f"no witness at {witness.describe()}: nothing vouches "
                                           "for the chain"))
    if lines is not None:
        checkpoints, problems = read_checkpoints(lines, public_key)
        findings += problems
        if not checkpoints:
            findings.append(Finding("witness", f"no valid signed checkpoint in "
                                               f"{witness.describe() if witness else '?'}"))
    expected, rewritten = vouched(checkpoints)
    findings += rewritten
    try:
        store = await open_audit_store(url, create=False)
    except Exception as exc:  # any driver's connect error: the CLI reports, never crashes
        reason = f"cannot open {redact_url(url)}: {exc}"
        if checkpoints:  # the witness knows a database existed: it was removed or replaced
            return failed(0, Finding("replaced", f"{reason}, yet {checkpoints[-1].label} "
                                                 f"vouched for {checkpoints[-1].seq} records"))
        return VerifyResult(ok=False, checked=0, reason=reason)
    try:
        inspection = await store.inspect(expected)
    finally:
        await store.aclose()
    chain = inspection.result
    findings = list(chain.findings) + findings
    if checkpoints:
        trusted = public_key or public_key_from_text(checkpoints[0].key)
        findings += judge(inspection.state, checkpoints, retention,
                          anchor_checkpoint(inspection.state, trusted))
    if findings:
        findings.sort(key=lambda f: _FIRST.index(f.kind) if f.kind in _FIRST else len(_FIRST))
        return VerifyResult(ok=False, checked=chain.checked, first_broken_seq=findings[0].seq,
                            reason=findings[0].message, findings=tuple(findings),
                            checkpoints=len(checkpoints))
    return VerifyResult(ok=True, checked=chain.checked, checkpoints=len(checkpoints))
