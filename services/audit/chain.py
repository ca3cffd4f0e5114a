"""Walking the chain: the one verification both stores share.

Four facts make a chain checkable end to end:

- the *anchor* — the seq and hash of the last record purged by retention
  (genesis: seq 0, hash ``000…``), so the first surviving record still has
  something to link to;
- every record — its seq follows the previous one, its ``prev_hash`` is the
  previous hash, and its ``hash`` recomputes from its contents;
- the *head* — seq and hash of the newest record, updated in the same
  transaction as each append, so cutting records off the end is detected too;
- the *per-citizen index* — rebuilt from the records' ``citizens`` (which the
  hash covers) and compared with the stored index, so deleting index rows
  (a citizen's ``auditTrail`` going empty) is detected.

An administrator with database access can still truncate *and* move the head, or
edit a record and recompute every hash after it: nothing inside the database can
tell. ``expected`` hashes from signed checkpoints (:mod:`.checkpoint`) close that.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .record import GENESIS_HASH, AuditRecord, Finding, VerifyResult, failed

__all__ = ["Anchor", "ChainState", "ChainVerifier", "Inspection", "PurgePlan", "Vouched"]


@dataclass(frozen=True, slots=True)
class Anchor:
    seq: int = 0
    hash: str = GENESIS_HASH


@dataclass(frozen=True, slots=True)
class Vouched:
    """A hash a signed checkpoint vouches for, and which checkpoint (for messages)."""

    hash: str
    label: str


@dataclass(frozen=True, slots=True)
class ChainState:
    """What the database says about its chain, read in one snapshot.

    ``identity`` is the random nonce written when the database was created
    (``""`` if missing): a database swapped for a fresh one has another.
    ``anchor_checkpoint`` is the signed purge checkpoint stored with the anchor
    (one JSON line, unverified here), so replicas with separate witnesses can
    each tell a signed purge from an unsigned one.
    """

    identity: str
    head: Anchor
    anchor: Anchor
    anchor_checkpoint: str | None = None

    @property
    def count(self) -> int:
        return self.head.seq - self.anchor.seq


@dataclass(frozen=True, slots=True)
class Inspection:
    """:class:`ChainState` and the walk's result, from the same snapshot."""

    state: ChainState
    result: VerifyResult


@dataclass(frozen=True, slots=True)
class PurgePlan:
    """Retention: records ``first``..``anchor.seq`` go, the last written at ``last_at``."""

    first: int
    anchor: Anchor
    last_at: dt.datetime


class ChainVerifier:
    """Feed records in seq order (and the index rows of each batch), then :meth:`finish`.

        verifier = ChainVerifier(anchor, expected={17: Vouched(hash, "checkpoint #3")})
        for batch in batches:
            for record in batch:
                verifier.feed(record)
            verifier.index(rows_for(batch[0].seq, batch[-1].seq))
        result = verifier.finish(head)
    """

    def __init__(self, anchor: Anchor | None = None,
                 expected: Mapping[int, Vouched] | None = None) -> None:
        anchor = anchor or Anchor()
        self._expected_seq = anchor.seq + 1
        self._prev_hash = anchor.hash
        self._vouched = expected or {}
        self._entries: set[tuple[str, int]] = set()  # (citizen, seq) the fed records imply
        self._missing: list[int] = []  # seqs whose index rows are gone
        self._extra: list[int] = []  # seqs with index rows no record supports
        self._rewritten: Finding | None = None
        self.checked = 0
        self.broken: VerifyResult | None = None

    def feed(self, record: AuditRecord) -> bool:
        """False (and :attr:`broken` set) at the first bad link; later records are moot."""
        if self.broken is not None:
            return False
        if record.seq != self._expected_seq:
            return self._break(
                self._expected_seq if record.seq > self._expected_seq else record.seq,
                f"record {self._expected_seq} is missing (found {record.seq})")
        if record.prev_hash != self._prev_hash:
            return self._break(record.seq,
                               f"record {record.seq} does not link to record {record.seq - 1}")
        if record.computed_hash() != record.hash:
            return self._break(record.seq, f"record {record.seq} was altered after it was written")
        vouched = self._vouched.get(record.seq)
        if vouched is not None and vouched.hash != record.hash and self._rewritten is None:
            # Internally consistent, yet not the chain that was signed: recomputed forward.
            self._rewritten = Finding(
                "rewritten", f"record {record.seq} is not the record {vouched.label} signed: "
                f"the chain up to it was rewritten and its hashes recomputed", record.seq)
        self._entries.update((c, record.seq) for c in record.citizens)
        self.checked += 1
        self._expected_seq += 1
        self._prev_hash = record.hash
        return True

    def index(self, rows: Iterable[tuple[str, int]]) -> None:
        """The stored index rows for exactly the seqs fed since the last call."""
        stored = set(rows)
        self._missing.extend(seq for _, seq in self._entries - stored)
        self._extra.extend(seq for _, seq in stored - self._entries)
        self._entries.clear()

    def stray_index(self, seqs: Iterable[int]) -> None:
        """Index rows pointing outside the surviving records (before the anchor, past the head)."""
        self._extra.extend(seqs)

    def finish(self, head: Anchor) -> VerifyResult:
        if self.broken is not None:
            return self.broken
        last = self._expected_seq - 1
        if head.seq > last:
            return self._result(last + 1, f"records {last + 1}..{head.seq} are missing")
        if head.seq < last or head.hash != self._prev_hash:
            return self._result(head.seq or last, "the chain head does not match the last record")
        findings = [f for f in (self._rewritten,) if f is not None]
        if self._missing:
            findings.append(Finding(
                "index", f"the per-citizen index lacks {len(self._missing)} entries the records "
                f"name (records {min(self._missing)}..{max(self._missing)}): index rows were "
                "deleted", min(self._missing)))
        if self._extra:
            findings.append(Finding(
                "index", f"the per-citizen index has {len(self._extra)} entries no record names "
                f"(first at record {min(self._extra)}): index rows were added", min(self._extra)))
        if findings:
            return failed(self.checked, *findings)
        return VerifyResult(ok=True, checked=self.checked)

    def _break(self, seq: int, reason: str) -> bool:
        self.broken = self._result(seq, reason)
        return False

    def _result(self, seq: int, reason: str) -> VerifyResult:
        return failed(self.checked, Finding("broken", reason, seq))
