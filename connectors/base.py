"""The one small protocol every centre connector implements.

The gateway knows only this protocol; each centre's quirks (XML, epoch
milliseconds, 15-digit IDs, cursor styles, auth) stay inside its module.

Example — a sixth centre needs only these methods::

    class ArbitrationConnector:
        centre = Centre.ARBITRATION
        async def get_many(self, native_ids): ...
        async def find_by_citizens(self, id_numbers): ...
        async def list_matters(self, query): ...
        async def health(self): ...
        async def aclose(self): ...
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from onedoor.model import Centre, LinkRecord, MatterRecord, MatterStatus, PartyRecord

__all__ = ["Connector", "Health", "ListQuery", "MatterDraft", "MatterPage", "SummaryCell", "SummaryConnector",
           "SummaryQuery", "WritableConnector"]


@dataclass(frozen=True, slots=True)
class ListQuery:
    """A centre-agnostic search. ``None`` means "no filter"; an empty tuple
    means "match nothing" (the caller short-circuits it)."""

    region_prefixes: tuple[str, ...] | None = None
    statuses: tuple[MatterStatus, ...] | None = None
    categories: tuple[str, ...] | None = None
    received_from: dt.datetime | None = None
    received_to: dt.datetime | None = None  # inclusive
    overdue: bool | None = None
    limit: int = 20


@dataclass(frozen=True, slots=True)
class MatterPage:
    items: tuple[MatterRecord, ...]  # newest first (received_at desc, then native id desc)
    total: int  # all matches of the query, not just this page


@dataclass(frozen=True, slots=True)
class Health:
    centre: Centre
    ok: bool
    latency_ms: float
    error_code: str | None = None


@runtime_checkable
class Connector(Protocol):
    centre: Centre

    async def get_many(self, native_ids: Sequence[str]) -> Mapping[str, MatterRecord]:
        """Records by native id; ids the centre does not hold are absent."""
        ...

    async def find_by_citizens(
        self, id_numbers: Sequence[str]
    ) -> Mapping[str, Sequence[MatterRecord]]:
        """Every matter in which each (canonical) resident ID is a party."""
        ...

    async def list_matters(self, query: ListQuery) -> MatterPage:
        """Up to ``query.limit`` matches, newest first, and the total match count."""
        ...

    async def health(self) -> Health: ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True)
class MatterDraft:
    """A matter to create at a centre, already validated and triaged by the gateway.

    ``reference`` is the gateway's own number for the submission: sent as the
    idempotency key where the centre has one, and as an external reference
    where it has none, so the record can be found again after a crash.
    ``kind`` is the centre's sub-type in unified words (e.g. ``LEGAL_AID``,
    ``COMPLAINT``); ``None`` lets the connector pick the usual one. ``links`` are
    cross-references the new record carries from birth, seen from it (a transfer's
    ``TRANSFERRED_FROM`` the source matter), sent in the centre's native form.
    """

    reference: str
    category: str
    title: str
    description: str
    region_code: str
    applicant: PartyRecord
    others: tuple[PartyRecord, ...] = ()
    kind: str | None = None
    channel: str = "WINDOW"
    links: tuple[LinkRecord, ...] = ()


@runtime_checkable
class WritableConnector(Protocol):
    """The write side, kept apart so read-only connectors stay valid ``Connector``s.

    ``idempotent_writes`` says whether the centre honours a key: only then is a
    create retried, and only then may a lost response be settled by sending the
    same create again. Otherwise :meth:`find_created` looks the record up by the
    draft's reference. :meth:`add_link` is idempotent at every centre (a link is kept
    once however often it is sent), so it is always safe to retry.
    """

    centre: Centre
    idempotent_writes: bool

    async def create(self, draft: MatterDraft) -> MatterRecord:
        """Create the matter (or, with an idempotency key, return the one created before)."""
        ...

    async def find_created(self, draft: MatterDraft) -> MatterRecord | None:
        """The record an earlier ``create`` of this draft made, if the centre holds one."""
        ...

    async def add_link(self, native_id: str, link: LinkRecord) -> MatterRecord:
        """Add a cross-reference (seen from ``native_id``) to a record the centre holds;
        returns the record as it now reads. An unknown record is a contract breach
        (:class:`~connectors.errors.CentreBadResponse`): we link only what we have read."""
        ...


@dataclass(frozen=True, slots=True)
class SummaryQuery:
    """Aggregates of the matters registered in ``[received_from, received_to]`` under
    ``region_prefix``, grouped by category × month (CST) × the first ``region_digits``
    digits of the region code."""

    region_prefix: str
    received_from: dt.datetime
    received_to: dt.datetime  # inclusive
    region_digits: int


@dataclass(frozen=True, slots=True)
class SummaryCell:
    """One group of a centre's summary; ``counts`` uses the names of ``schema.kpi.Figures``."""

    category: str
    month: str  # YYYY-MM
    region: str  # the grouped prefix, ``region_digits`` long
    counts: Mapping[str, int]


@runtime_checkable
class SummaryConnector(Protocol):
    """A centre that aggregates for us (push-down); the others are paged and counted
    in the gateway. Kept apart so every ``Connector`` stays valid without it."""

    centre: Centre

    async def summarize(self, query: SummaryQuery) -> Sequence[SummaryCell]:
        """The centre's own counts for the query, one cell per non-empty group."""
        ...
