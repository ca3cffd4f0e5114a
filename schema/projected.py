"""The dispatcher's view answered from the analytic projection (:mod:`services.projection`).

When the gateway keeps a projection (settings ``[projection]``), ``statistics``,
``overdue`` and ``escalations`` read it instead of paging five centres: the
region prefix is part of each query (jurisdiction inside the query), and each
centre's watermark says how fresh its part is. ``organisation(creditCode:)`` needs
it: no centre searches by organisation, so the projection's index of credit codes
says which matters to read (:func:`projected_organisation`), and they are then read
from the centres like any other.

The rows are built here, from the same pure definitions the live path uses
(:func:`schema.kpi.classify`, :func:`onedoor.deadlines.deadlines_of`), so the
two paths count alike; the store only sums and filters.

>>> to_row = row_mapper(b"secret-key-of-32-bytes-or-more..")
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from onedoor import deadlines as rules
from onedoor.identifiers import InvalidIdentifier, normalise_uscc
from onedoor.model import CST, Centre, LinkRelation, MatterRecord, PartyKind
from services.projection import (
    CellQuery,
    ProjectionRow,
    ProjectionStore,
    RowMapper,
    Watermark,
    person_key,
)

from .deadlines import Overdue
from .kpi import COUNTS, CellKey, Cells, Figures, child_digits, child_region, classify, month_of, petitioner

__all__ = ["STORED", "Projected", "organisation_codes", "projected_cells", "projected_chains",
           "projected_organisation", "projected_overdue", "record_of", "row_mapper"]

# The KPI counts a row carries as 0/1 columns: every count of ``Figures`` that depends on the
# record alone. ``registered`` is the row itself; the store computes ``repeat_petitions``
# (peers) and ``overdue_open`` (the as-of moment) in its query.
STORED: tuple[str, ...] = tuple(c for c in COUNTS if c not in ("registered", "repeat_petitions", "overdue_open"))

_KINDS = ("mediation_type", "service_type", "petition_type", "case_type", "event_type")


def organisation_codes(record: MatterRecord) -> tuple[str, ...]:
    """The valid credit codes of the parties the centre records as organisations (canonical,
    sorted, unique). A person who also carries a code (a 个体工商户 recorded as its
    proprietor) is a person: never indexed by it."""
    codes = set()
    for party in record.parties:
        if party.kind is PartyKind.ORGANISATION and party.org_code:
            try:
                codes.add(normalise_uscc(party.org_code))
            except InvalidIdentifier:
                continue  # a code no valid query can ask for
    return tuple(sorted(codes))


def row_mapper(secret: bytes) -> RowMapper:
    """Records → projection rows; ``secret`` keys the petitioner hash (repeat petitions)."""

    def to_row(r: MatterRecord) -> ProjectionRow:
        figures = classify(r)
        who = petitioner(r) if r.centre is Centre.PETITIONS else None
        kind = next((str(r.extra[k]) for k in _KINDS if r.extra.get(k) is not None), "")
        return ProjectionRow(
            centre=r.centre, native_id=r.native_id, reference=r.reference, kind=kind, category=r.category,
            region_code=r.region_code, status=r.status, centre_status=r.centre_status,
            received_at=r.received_at, month=month_of(r.received_at), closed_at=r.closed_at,
            deadlines=rules.deadlines_of(r), flags={f: int(getattr(figures, f)) for f in STORED},
            person=None if who is None else person_key(secret, who), links=r.links, orgs=organisation_codes(r))

    return to_row


def record_of(row: ProjectionRow) -> MatterRecord:
    """A row as the record the view types read (no parties, no title: there are none)."""
    return MatterRecord(
        centre=row.centre, native_id=row.native_id, reference=row.reference, category=row.category, title="",
        status=row.status, centre_status=row.centre_status, region_code=row.region_code,
        received_at=row.received_at.astimezone(CST),
        closed_at=None if row.closed_at is None else row.closed_at.astimezone(CST), links=row.links)


@dataclass
class Projected:
    cells: Cells
    records: dict[Centre, int]  # matters counted per centre
    marks: dict[Centre, Watermark]  # every centre's watermark (missing: never loaded)


async def projected_cells(store: ProjectionStore, prefix: str, span: tuple[dt.datetime, dt.datetime],
                          as_of: dt.datetime) -> Projected:
    """KPI cells of the region's matters registered in ``span``, summed in the store
    (``overdue_open`` as of ``as_of``)."""
    found = await store.cells(CellQuery(prefix, span[0], span[1], child_digits(prefix), as_of))
    out = Projected({}, {}, await store.watermarks())
    loaded = {c for c, m in out.marks.items() if m.as_of is not None}
    for cell in found:
        if cell.centre not in loaded:  # still in its first load: reported missing, not half counted
            continue
        key = CellKey(cell.centre, cell.category, cell.month, child_region(cell.region.ljust(12, "0"), prefix))
        out.cells.setdefault(key, Figures()).add(Figures.of(cell.counts))
        out.records[cell.centre] = out.records.get(cell.centre, 0) + int(cell.counts.get("registered", 0))
    return out


async def projected_overdue(store: ProjectionStore, prefix: str, as_of: dt.datetime) -> list[Overdue]:
    """Open matters under ``prefix`` with a deadline missed by ``as_of`` — the store narrows
    by region and by the first instant a deadline could count as missed; the deadline
    itself decides, as on the live path (:func:`schema.deadlines.overdue_of`)."""
    loaded = {c for c, m in (await store.watermarks()).items() if m.as_of is not None}
    out = []
    for row in await store.overdue(prefix, as_of):
        if row.centre not in loaded:
            continue
        missed = next((d for d in row.deadlines if d.missed(as_of)), None)
        if missed is not None and missed.due is not None:
            out.append(Overdue(record_of(row), missed, missed.due, missed.days_late(as_of)))
    return out


async def projected_organisation(store: ProjectionStore, org_code: str, prefixes: Sequence[str],
                                 centres: Collection[Centre]) -> tuple[list[tuple[Centre, str]], list[Centre]]:
    """Keys of the matters of ``centres`` under any of ``prefixes`` (the caller's
    jurisdiction, inside each query) naming the organisation, newest first; and those of
    ``centres`` whose first load is not done yet (their keys would be a partial answer:
    the caller is told, not given an incomplete list as if it were whole)."""
    loaded = {c for c, m in (await store.watermarks()).items() if m.as_of is not None}
    keys: dict[tuple[Centre, str], None] = {}
    for prefix in dict.fromkeys(prefixes):
        for key in await store.organisation_matters(org_code, prefix):
            if key[0] in centres and key[0] in loaded:
                keys[key] = None
    return list(keys), [c for c in Centre if c in centres and c not in loaded]


async def projected_chains(store: ProjectionStore, prefix: str, span: tuple[dt.datetime, dt.datetime],
                           visible: Callable[[str], bool], follow: Collection[LinkRelation],
                           is_root: Callable[[MatterRecord], bool]) -> list[list[MatterRecord]]:
    """Escalation chains from grid events and mediations registered in ``span`` under
    ``prefix``, followed through the projection (at most four steps) by the live path's
    own rules: ``follow`` (the relations a chain follows) and ``is_root``; a step whose
    region is not ``visible`` to the caller ends its chain, as on the live path."""
    found = await store.roots(prefix, span[0], span[1], (Centre.GOVERNANCE, Centre.MEDIATION))
    roots = [r for r in found if is_root(record_of(r))]
    chains = [[r] for r in roots]
    for length in range(1, 4):
        wanted: dict[tuple[Centre, str], list[int]] = {}
        for i, chain in enumerate(chains):
            nxt = [x for x in chain[-1].links if x.relation in follow]
            if len(chain) == length and nxt:
                wanted.setdefault((nxt[0].centre, nxt[0].native_id), []).append(i)
        if not wanted:
            break
        for key, row in (await store.rows(list(wanted))).items():
            if visible(row.region_code):
                for i in wanted[key]:
                    chains[i].append(row)
    return [[record_of(r) for r in chain] for chain in chains]
