"""Audit records and their hash chain (MLPS 2.0 level 3: records protected from tampering).

Each record's ``hash`` is SHA-256 over a canonical JSON encoding of all its
fields, its ``seq`` and the previous record's hash, so editing, deleting or
reordering any record breaks every link after it. A record carries *who*
(sub, client, purpose), *what* (operation, document hash, centres called,
which fields were shown unmasked, allow/deny decisions) and *whose data* —
canonical resident IDs only, never names, values or query variables (PIPL
Art.6: the trail must not become a second copy of the personal data).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from onedoor.identifiers import InvalidIdentifier, normalise_resident_id

__all__ = [
    "GENESIS_HASH",
    "AuditEntry",
    "AuditRecord",
    "Decision",
    "Finding",
    "VerifyResult",
    "canonical_citizen",
    "failed",
    "format_time",
    "parse_time",
    "record_from_row",
    "record_to_row",
    "seal",
]

GENESIS_HASH = "0" * 64
_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]{0,127}$")
_LIST_COLUMNS = ("citizens", "centres", "unmasked_fields")


@dataclass(frozen=True, slots=True)
class Decision:
    """One allow/deny made while answering, e.g. ``Decision("deny", "no_scope", field="phone")``."""

    effect: Literal["allow", "deny"]
    reason: str
    field: str | None = None
    centre: str | None = None

    def as_json(self) -> dict[str, str | None]:
        return {"effect": self.effect, "reason": self.reason, "field": self.field,
                "centre": self.centre}


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """What the operation stage hands to :meth:`AuditStore.append`.

    ``citizens`` are canonicalised here (lowercase ``x``, legacy 15 digits);
    anything that is not a resident ID is refused rather than stored.
    ``unmasked_fields`` are field names, never values. ``at`` defaults to the
    time of appending.
    """

    sub: str | None
    client_id: str | None
    operation_name: str | None
    document_hash: str | None
    purpose: str | None = None
    citizens: tuple[str, ...] = ()
    centres: tuple[str, ...] = ()
    unmasked_fields: tuple[str, ...] = ()
    decisions: tuple[Decision, ...] = ()
    result_count: int = 0
    outcome: str = "ok"
    request_id: str | None = None
    at: dt.datetime | None = None

    def __post_init__(self) -> None:
        try:
            citizens = tuple(sorted({normalise_resident_id(c) for c in self.citizens}))
        except InvalidIdentifier as exc:
            # A plain ValueError: InvalidIdentifier is frozen and cannot cross a `with` block.
            raise ValueError(f"citizens holds resident IDs only ({exc.reason})") from None
        object.__setattr__(self, "citizens", citizens)
        object.__setattr__(self, "centres", tuple(sorted(set(self.centres))))
        bad = [f for f in self.unmasked_fields if not _FIELD_NAME.match(f)]
        if bad:
            raise ValueError("unmasked_fields holds field names only")
        object.__setattr__(self, "unmasked_fields", tuple(sorted(set(self.unmasked_fields))))
        if self.at is not None and self.at.utcoffset() is None:
            raise ValueError("audit times are timezone-aware")


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """A stored entry: the entry's fields plus its place in the chain."""

    seq: int
    at: dt.datetime
    sub: str | None
    client_id: str | None
    purpose: str | None
    operation_name: str | None
    document_hash: str | None
    citizens: tuple[str, ...]
    centres: tuple[str, ...]
    unmasked_fields: tuple[str, ...]
    decisions: tuple[Decision, ...]
    result_count: int
    outcome: str
    request_id: str | None
    prev_hash: str
    hash: str

    def computed_hash(self) -> str:
        """What ``hash`` must be if nothing in the record was changed."""
        return _chain_hash(self.seq, self.at, self, self.prev_hash)


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing verify found wrong, e.g. ``Finding("truncated", "records 6..9 …", seq=6)``.

    ``kind`` is one of ``broken`` (a record altered, missing or relinked),
    ``truncated``, ``rewritten`` (a chain recomputed forward), ``replaced`` (another
    database), ``purged`` (records gone without a signed retention checkpoint),
    ``index`` (the per-citizen index disagrees with the records) and ``witness``
    (the checkpoints themselves are unusable).
    """

    kind: str
    message: str
    seq: int | None = None


@dataclass(frozen=True, slots=True)
class VerifyResult:
    ok: bool
    checked: int
    first_broken_seq: int | None = None
    reason: str | None = None
    findings: tuple[Finding, ...] = ()
    checkpoints: int = 0  # signed checkpoints the chain was held against


def failed(checked: int, *findings: Finding) -> VerifyResult:
    """A failed result whose ``reason`` and ``first_broken_seq`` come from the first finding."""
    first = findings[0]
    return VerifyResult(ok=False, checked=checked, first_broken_seq=first.seq,
                        reason=first.message, findings=findings)


def canonical_citizen(citizen_id: str) -> str:
    """The canonical resident ID to look up, or ``ValueError``."""
    try:
        return normalise_resident_id(citizen_id)
    except InvalidIdentifier as exc:
        raise ValueError(f"not a resident ID ({exc.reason})") from None


def format_time(at: dt.datetime) -> str:
    """Fixed-width UTC text: sorts like time, and hashes the same in every store."""
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _content(entry: AuditEntry | AuditRecord) -> dict[str, Any]:
    return {
        "sub": entry.sub, "client_id": entry.client_id, "purpose": entry.purpose,
        "operation_name": entry.operation_name, "document_hash": entry.document_hash,
        "citizens": list(entry.citizens), "centres": list(entry.centres),
        "unmasked_fields": list(entry.unmasked_fields),
        "decisions": [d.as_json() for d in entry.decisions],
        "result_count": entry.result_count, "outcome": entry.outcome,
        "request_id": entry.request_id,
    }


def _canonical(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode()


def _chain_hash(
    seq: int, at: dt.datetime, entry: AuditEntry | AuditRecord, prev_hash: str
) -> str:
    body = {"v": 1, "seq": seq, "at": format_time(at), "prev_hash": prev_hash, **_content(entry)}
    return hashlib.sha256(_canonical(body)).hexdigest()


def seal(entry: AuditEntry, seq: int, at: dt.datetime, prev_hash: str) -> AuditRecord:
    """The record that follows ``prev_hash`` as number ``seq``."""
    at = (entry.at or at).astimezone(dt.UTC)
    return AuditRecord(
        seq=seq, at=at, sub=entry.sub, client_id=entry.client_id, purpose=entry.purpose,
        operation_name=entry.operation_name, document_hash=entry.document_hash,
        citizens=entry.citizens, centres=entry.centres, unmasked_fields=entry.unmasked_fields,
        decisions=entry.decisions, result_count=entry.result_count, outcome=entry.outcome,
        request_id=entry.request_id, prev_hash=prev_hash,
        hash=_chain_hash(seq, at, entry, prev_hash),
    )


def record_to_row(record: AuditRecord) -> dict[str, Any]:
    """Column values: JSON text for the lists, fixed-width text for the time."""
    row = _content(record)
    for name in (*_LIST_COLUMNS, "decisions"):
        row[name] = json.dumps(row[name], ensure_ascii=False)
    row.update(seq=record.seq, at=format_time(record.at), prev_hash=record.prev_hash,
               hash=record.hash)
    return row


def parse_time(value: str | dt.datetime) -> dt.datetime:
    """The inverse of :func:`format_time` (a driver's ``datetime`` passes through in UTC)."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC)
    return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


def record_from_row(row: Mapping[str, Any]) -> AuditRecord:
    """The inverse of :func:`record_to_row`, trusting nothing: verify checks the hash."""
    return AuditRecord(
        seq=int(row["seq"]), at=parse_time(row["at"]), sub=row["sub"],
        client_id=row["client_id"], purpose=row["purpose"],
        operation_name=row["operation_name"], document_hash=row["document_hash"],
        citizens=tuple(json.loads(row["citizens"])), centres=tuple(json.loads(row["centres"])),
        unmasked_fields=tuple(json.loads(row["unmasked_fields"])),
        decisions=tuple(Decision(**d) for d in json.loads(row["decisions"])),
        result_count=int(row["result_count"]), outcome=row["outcome"],
        request_id=row["request_id"], prev_hash=row["prev_hash"], hash=row["hash"],
    )
