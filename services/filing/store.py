"""The durable record of every filing, so a submission happens exactly once.

    pending ──create at centre──▶ created ──(transfer: link at the source) audit──▶ done
       ▲  └─centre refused / unreachable─▶ failed (a retry with the same key tries again)

A row is claimed *before* the centre is called, with the gateway's own
receipt number, which travels to the centre as its idempotency key or
external reference. Whoever holds the row's lease may call the centre — the
claimant holds it from the insert on, and keeps it through ``created`` until
``done`` (or gives it back with :meth:`SubmissionStore.release` when a step
failed). After a crash between the centre's create and ``mark_created`` the row
stays ``pending``; a row whose transfer link or audit record is missing stays
``created``. :meth:`FilingService.reconcile` settles both, at start and then
periodically, once their lease has expired.

Same URL convention as the audit store: ``sqlite:///path`` or ``postgresql://…``
(``?schema=name``, default ``onedoor_submissions``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Protocol

from ..audit import redact_url

__all__ = ["STATES", "Submission", "SubmissionStore", "open_submission_store"]

STATES = ("pending", "created", "done", "failed")


@dataclass(frozen=True, slots=True)
class Submission:
    key: str  # the caller's idempotency key, scoped by caller: "<sub>\x1f<key>"
    receipt: str
    fingerprint: str  # hash of the canonical input: one key, one filing
    owner: str  # the filer's sub
    applicant_id: str
    region_code: str
    centre: str
    rule_id: str
    draft: str  # JSON of the MatterDraft: what reconcile re-sends or looks up
    state: str = "pending"
    native_id: str | None = None
    error: str | None = None
    source: str | None = None  # for a transfer: the global id of the matter it came from
    lease_until: dt.datetime | None = None

    def with_state(self, state: str, **changes: object) -> Submission:
        return replace(self, state=state, **changes)  # type: ignore[arg-type]


class SubmissionStore(Protocol):
    async def claim(self, submission: Submission) -> tuple[Submission, bool]:
        """Insert unless the key exists; the stored row and whether it is new. A new row
        is stored with ``submission.lease_until``: the claimant holds its lease at once."""
        ...

    async def lease(self, key: str, until: dt.datetime) -> bool:
        """Take the right to work on a pending, failed or created row whose lease has
        expired or was released (atomic: of many callers, one wins)."""
        ...

    async def release(self, key: str, until: dt.datetime) -> None:
        """Give back the lease taken ``until`` then, so the next pass may retry at once;
        a no-op when another holder's lease has replaced it meanwhile."""
        ...

    async def mark_created(self, key: str, native_id: str) -> None: ...

    async def mark_done(self, key: str) -> None: ...

    async def mark_failed(self, key: str, error: str) -> None: ...

    async def get(self, key: str) -> Submission | None: ...

    async def by_receipt(self, receipt: str) -> Submission | None: ...

    async def unfinished(self) -> list[Submission]:
        """Rows still ``pending`` or ``created``: what reconcile must settle."""
        ...

    async def count(self) -> int: ...

    async def aclose(self) -> None: ...


async def open_submission_store(url: str) -> SubmissionStore:
    if url.startswith("sqlite:///"):
        from .sqlite import SqliteSubmissionStore

        return await SqliteSubmissionStore.open(url.removeprefix("sqlite:///"))
    if url.startswith(("postgresql://", "postgres://")):
        from .postgres import PostgresSubmissionStore

        return await PostgresSubmissionStore.open(url)
    raise ValueError(f"unsupported submission store URL: {redact_url(url)}")
