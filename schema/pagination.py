"""Ordering and the k-way merge that pages a list drawn from several centres.

The global order is newest first (``received_at`` desc), then centre (enum
order), then native id descending — the same tie-break each centre's own
search uses, so a prefix of a centre's page is a prefix of our order. A cursor
is the position of the last item returned; the next page asks each centre only
for items at or before that time, so no centre's whole list is ever fetched
and cursors stay valid as new matters arrive.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field

from connectors.base import ListQuery, MatterPage
from connectors.errors import CentreError
from onedoor.model import Centre, MatterRecord

from .ids import Position

__all__ = ["MergeResult", "is_after", "merge_centres", "position_of", "sort_records"]

_CENTRE_INDEX = {c: i for i, c in enumerate(Centre)}
_MAX_REFETCH = 5


def position_of(record: MatterRecord) -> Position:
    return (record.received_at, record.centre, record.native_id)


def is_after(record: MatterRecord, position: Position) -> bool:
    """Whether ``record`` comes strictly after ``position`` in the global order."""
    at, centre, native_id = position
    if record.received_at != at:
        return record.received_at < at
    ci, pi = _CENTRE_INDEX[record.centre], _CENTRE_INDEX[centre]
    if ci != pi:
        return ci > pi
    return record.native_id < native_id


def sort_records(records: Iterable[MatterRecord]) -> list[MatterRecord]:
    # Two stable sorts: native id descending, then (time desc, centre asc).
    ordered = sorted(records, key=lambda r: r.native_id, reverse=True)
    ordered.sort(key=lambda r: (-r.received_at.timestamp(), _CENTRE_INDEX[r.centre]))
    return ordered


def page_after(
    records: Sequence[MatterRecord], first: int, after: Position | None
) -> tuple[list[MatterRecord], bool]:
    """Slice an already-sorted list: the ``first`` items after ``after``, and whether more follow."""
    remaining = [r for r in records if after is None or is_after(r, after)]
    return remaining[:first], len(remaining) > first


Fetch = Callable[[Centre, ListQuery], Awaitable[MatterPage]]


@dataclass
class MergeResult:
    items: list[MatterRecord]
    has_next: bool
    # Per-centre totals for the unrestricted query; only known on a first page.
    totals: dict[Centre, int] | None
    errors: dict[Centre, CentreError] = field(default_factory=dict)


async def _centre_slice(
    fetch: Fetch, centre: Centre, base: ListQuery, want: int, after: Position | None
) -> tuple[list[MatterRecord], int, int]:
    """Up to ``want`` of this centre's items after the cursor, the total of the
    unrestricted query when there is no cursor, and how many items after the
    cursor the centre holds in all (for ``hasNextPage``)."""
    received_to = base.received_to
    if after is not None and (received_to is None or after[0] < received_to):
        received_to = after[0]
    limit = max(want, 1)
    for _ in range(_MAX_REFETCH):
        page = await fetch(centre, dataclasses.replace(base, received_to=received_to, limit=limit))
        items = [r for r in page.items if after is None or is_after(r, after)]
        skipped = sum(1 for r in page.items if after is not None and not is_after(r, after))
        if len(page.items) < limit or len(items) >= want:
            return items[:want], page.total, page.total - skipped
        # Items tied with the cursor's timestamp used up the page: widen and ask again.
        limit *= 2
    return items[:want], page.total, page.total - skipped


async def merge_centres(
    fetch: Fetch,
    centres: Sequence[Centre],
    base: ListQuery,
    first: int,
    after: Position | None,
) -> MergeResult:
    """One page of the merged list; a failing centre is reported, not fatal.

    Each centre is asked for ``first`` items in one call (no "+1" probe, which
    would push a 100-item page past most centres' page size): whether a next
    page exists follows from the centres' totals.
    """
    results = await asyncio.gather(
        *(_centre_slice(fetch, c, base, first, after) for c in centres), return_exceptions=True
    )
    merged: list[MatterRecord] = []
    totals: dict[Centre, int] = {}
    remaining = 0
    errors: dict[Centre, CentreError] = {}
    for centre, result in zip(centres, results, strict=True):
        if isinstance(result, CentreError):
            errors[centre] = result
        elif isinstance(result, BaseException):
            raise result
        else:
            items, total, after_cursor = result
            merged.extend(items)
            totals[centre] = total
            remaining += after_cursor
    ordered = sort_records(merged)
    return MergeResult(
        items=ordered[:first],
        has_next=remaining > first,
        totals=totals if after is None else None,
        errors=errors,
    )
