"""The audit store contract, its URL factory and the CLI's verify entry point.

    store = await open_audit_store("sqlite:///.onedoor/audit.sqlite")   # or postgresql://…
    record = await store.append(AuditEntry(sub="u1", client_id="portal", ...))
    page, cursor = await store.query("11010519491231002X", first=50)
    assert (await store.verify()).ok
    await store.aclose()

Both implementations serialise appends on a head row inside one transaction,
so several gateway processes sharing one database still form one chain.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Mapping
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit, urlunsplit

from .chain import Anchor, ChainState, Inspection, PurgePlan, Vouched
from .record import AuditEntry, AuditRecord, VerifyResult

__all__ = [
    "DEFAULT_RETENTION",
    "AuditStore",
    "ChainStore",
    "decode_cursor",
    "encode_cursor",
    "open_audit_store",
    "redact_url",
    "verify_store",
]

# PIPL Art.56: processing records kept at least three years (+1 day for a leap year).
DEFAULT_RETENTION = dt.timedelta(days=3 * 365 + 1)
MAX_PAGE = 500
_CURSOR = re.compile(r"^a:(\d{1,19})$")


class AuditStore(Protocol):
    async def append(self, entry: AuditEntry) -> AuditRecord:
        """Chain and store one entry; concurrent appends never fork the chain."""
        ...

    async def query(
        self,
        citizen_id: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> tuple[list[AuditRecord], str | None]:
        """Records in seq order, ``since <= at < until``, touching ``citizen_id`` if
        given; returns the page and the cursor of the next page (``None`` at the end)."""
        ...

    async def verify(self) -> VerifyResult: ...

    async def purge_older_than(self, cutoff: dt.datetime) -> int:
        """Drop the oldest records (a chain prefix) written before ``cutoff``,
        keeping an anchor so the rest still verifies. Returns how many went."""
        ...

    async def writable(self) -> bool:
        """Readiness: can an append succeed right now?"""
        ...

    async def aclose(self) -> None: ...


@runtime_checkable
class ChainStore(AuditStore, Protocol):
    """What signed checkpoints need beyond :class:`AuditStore` (both stores have it)."""

    async def state(self) -> ChainState:
        """Identity, head and anchor, from one snapshot."""
        ...

    async def hash_at(self, seq: int) -> str | None:
        """The stored hash of record ``seq`` (``None`` when there is none)."""
        ...

    async def inspect(self, expected: Mapping[int, Vouched] | None = None) -> Inspection:
        """Walk the chain and index (held against ``expected`` hashes) in one snapshot."""
        ...

    async def plan_purge(self, cutoff: dt.datetime) -> PurgePlan | None:
        """What :meth:`purge_older_than` would drop, without dropping it."""
        ...

    async def purge_through(self, anchor: Anchor, checkpoint: str | None = None) -> int:
        """Drop records up to ``anchor.seq``, refusing if that record's hash is not
        ``anchor.hash``; 0 when they are already gone. ``checkpoint``, the signed purge
        line, is kept with the anchor in the same transaction."""
        ...


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"a:{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    """The seq after which the next page starts; ``ValueError`` for a foreign cursor."""
    if cursor is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeError):
        raise ValueError("invalid cursor") from None
    match = _CURSOR.match(text)
    if match is None:
        raise ValueError("invalid cursor")
    return int(match.group(1))


def check_page_size(first: int) -> int:
    if not 1 <= first <= MAX_PAGE:
        raise ValueError(f"first must be between 1 and {MAX_PAGE}")
    return first


def redact_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


async def open_audit_store(url: str, *, create: bool = True) -> ChainStore:
    """``sqlite:///relative/path``, ``sqlite:////absolute/path`` or ``postgresql://…``
    (``?schema=name`` picks the PostgreSQL schema, default ``onedoor_audit``).

    ``create=False`` opens only an existing store (``FileNotFoundError`` /
    ``LookupError`` otherwise): verifying must not conjure an empty, "intact" trail.
    """
    if url.startswith("sqlite:///"):
        from .sqlite import SqliteAuditStore

        return await SqliteAuditStore.open(url.removeprefix("sqlite:///"), create=create)
    if url.startswith(("postgresql://", "postgres://")):
        from .postgres import PostgresAuditStore

        return await PostgresAuditStore.open(url, create=create)
    raise ValueError(f"unsupported audit store URL: {redact_url(url)}")


async def verify_store(url: str) -> VerifyResult:
    """Open, verify and close: what ``onedoor audit verify`` prints."""
    try:
        store = await open_audit_store(url, create=False)
    except Exception as exc:  # any driver's connect error: the CLI reports, never crashes
        return VerifyResult(ok=False, checked=0, reason=f"cannot open {redact_url(url)}: {exc}")
    try:
        return await store.verify()
    finally:
        await store.aclose()
