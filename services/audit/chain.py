"""Walking the chain: the one verification both stores share.

Three facts make a chain checkable end to end:

- the *anchor* — the seq and hash of the last record purged by retention
  (genesis: seq 0, hash ``000…``), so the first surviving record still has
  something to link to;
- every record — its seq follows the previous one, its ``prev_hash`` is the
  previous hash, and its ``hash`` recomputes from its contents;
- the *head* — seq and hash of the newest record, updated in the same
  transaction as each append, so cutting records off the end is detected too.
"""

from __future__ import annotations

from dataclasses import dataclass

from .record import GENESIS_HASH, AuditRecord, VerifyResult

__all__ = ["Anchor", "ChainVerifier"]


@dataclass(frozen=True, slots=True)
class Anchor:
    seq: int = 0
    hash: str = GENESIS_HASH


class ChainVerifier:
    """Feed records in seq order, then :meth:`finish` with the head."""

    def __init__(self, anchor: Anchor | None = None) -> None:
        anchor = anchor or Anchor()
        self._expected = anchor.seq + 1
        self._prev_hash = anchor.hash
        self.checked = 0
        self.broken: VerifyResult | None = None

    def feed(self, record: AuditRecord) -> bool:
        """False (and :attr:`broken` set) at the first bad link; later records are moot."""
        if self.broken is not None:
            return False
        if record.seq != self._expected:
            return self._break(self._expected if record.seq > self._expected else record.seq,
                               f"record {self._expected} is missing (found {record.seq})")
        if record.prev_hash != self._prev_hash:
            return self._break(record.seq,
                               f"record {record.seq} does not link to record {record.seq - 1}")
        if record.computed_hash() != record.hash:
            return self._break(record.seq, f"record {record.seq} was altered after it was written")
        self.checked += 1
        self._expected += 1
        self._prev_hash = record.hash
        return True

    def finish(self, head: Anchor) -> VerifyResult:
        if self.broken is not None:
            return self.broken
        last = self._expected - 1
        if head.seq > last:
            return self._result(last + 1, f"records {last + 1}..{head.seq} are missing")
        if head.seq < last or head.hash != self._prev_hash:
            return self._result(head.seq or last, "the chain head does not match the last record")
        return VerifyResult(ok=True, checked=self.checked)

    def _break(self, seq: int, reason: str) -> bool:
        self.broken = self._result(seq, reason)
        return False

    def _result(self, seq: int, reason: str) -> VerifyResult:
        return VerifyResult(ok=False, checked=self.checked, first_broken_seq=seq, reason=reason)
