"""A deterministic synthetic world: citizens and their matters at five centres.

Built from a seed in a few vectorised passes (:mod:`sandbox.columns`), so a
million matters take seconds and tens of megabytes. Full native records are
not stored: a centre asks for :meth:`World.matter` and renders the row with a
per-row RNG seeded from ``(seed, row)``, so the same id always yields the same
record. Searches are numpy masks over one centre's contiguous slice.

>>> from onedoor.model import Centre
>>> w = World(seed=1, matters=2000)
>>> m = w.matter(w.rows(Centre.MEDIATION)[0])
>>> w.row_of(Centre.MEDIATION, m.native_id) == m.row
True
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from onedoor.identifiers import InvalidIdentifier, normalise_resident_id, to_legacy_15
from onedoor.model import CST, Centre
from onedoor.regions import PROVINCE_ABBREVIATIONS, get_region
from sandbox.columns import Columns, build_columns
from sandbox.lifecycle import CASE_TYPES, STATUSES
from sandbox.people import Citizen, Citizens, village_table

__all__ = ["CENTRES", "Matter", "World", "to_cst"]

CENTRES: tuple[Centre, ...] = tuple(Centre)
_LEGAL_PREFIX = ("ZX", "FY", "GZ", "JZ", "AZ")
_PATTERNS = (
    re.compile(r"^TJ(\d{6})(\d{4})(\d{5,})$"),
    re.compile(r"^([A-Z]{2})(\d{4})(\d{6})(\d{6,})$"),
    re.compile(r"^XF(\d{6})(\d{4})(\d{6,})$"),
    re.compile(r"^（(\d{4})）(\D)(\d{2}|\d{4})(\D+?)(\d+)号$"),  # 青01 intermediate, 青2301 basic court
    re.compile(r"^WG(\d{6})(\d{4})(\d{6,})$"),
)


def to_cst(ts: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, CST)


@dataclass(frozen=True, slots=True)
class Matter:
    """One row, resolved: what a centre needs to render its native record."""

    row: int
    centre: Centre
    native_id: str
    citizen: Citizen
    other: Citizen | None  # a person on the other side, if not an organisation
    stored_id: str  # the primary party's ID as this centre stored it
    region_code: str
    category: int
    sub: int
    status: str
    received: int
    accepted: int | None
    closed: int | None
    due: int | None
    due2: int | None
    extension_days: int  # petitions: an approved Art.34 extension, in ``due2`` already
    opinion: int | None  # petitions: the handling opinion (办结), also while under review
    reviews: tuple[int | None, int | None, int | None, int | None]  # 复查 asked/answered, 复核 asked/answered
    overdue: bool
    story: int  # index into sandbox.columns.STORIES, or -1
    side: int  # 0 = end A of the story, 1 = end B
    partner_id: str | None
    partner_row: int | None
    tie: int
    rng: np.random.Generator


class World:
    """Citizens and matters generated from ``seed``; ``now`` anchors all lifecycles
    (default: the start of today in CST, so a given day's world is reproducible)."""

    def __init__(self, seed: int = 7, *, matters: int | None = None,
                 citizens: int | None = None, now: dt.datetime | None = None) -> None:
        if matters is None:
            matters = 10_000 if citizens is None else citizens * 10 // 3
        if citizens is None:
            citizens = max(50, matters * 3 // 10)
        if now is None:
            now = dt.datetime.now(CST).replace(hour=0, minute=0, second=0, microsecond=0)
        self.seed = seed
        self.now = now.astimezone(CST)
        self.now_ts = int(self.now.timestamp())
        rng = np.random.default_rng(seed)
        self.people = Citizens(citizens, rng, self.now)
        self.cols: Columns = build_columns(rng, self.people, matters, self.now_ts)
        self.size = matters

    # -- rows and ids -------------------------------------------------------
    def rows(self, centre: Centre) -> range:
        c = CENTRES.index(centre)
        return range(int(self.cols.starts[c]), int(self.cols.starts[c + 1]))

    def count(self, centre: Centre) -> int:
        return len(self.rows(centre))

    def native_id(self, row: int) -> str:
        cols = self.cols
        c = int(cols.centre[row])
        seq = row - int(cols.starts[c]) + 1
        county = village_table()[0][int(cols.village[row])][:6]
        year = to_cst(int(cols.recv[row])).year
        if c == 0:
            return f"TJ{county}{year}{seq:05d}"
        if c == 1:
            return f"{_LEGAL_PREFIX[int(cols.sub[row])]}{year}{county}{seq:06d}"
        if c == 2:
            return f"XF{county}{year}{seq:06d}"
        if c == 3:
            case_type = CASE_TYPES[int(cols.sub[row])]
            return f"（{year}）{self.court_name(county, case_type)[0]}{case_type}{seq}号"
        return f"WG{county}{year}{seq:06d}"

    def row_of(self, centre: Centre, native_id: str) -> int | None:
        """Parse the sequence out of a native id; ``None`` unless it round-trips."""
        c = CENTRES.index(centre)
        match = _PATTERNS[c].match(native_id)
        if match is None:
            return None
        row = int(self.cols.starts[c]) + int(match.groups()[-1]) - 1
        if not self.cols.starts[c] <= row < self.cols.starts[c + 1]:
            return None
        return row if self.native_id(row) == native_id else None

    def court_name(self, county6: str, case_type: str = "民初") -> tuple[str, str]:
        """(court code, court name) of the court that numbers a case of ``case_type`` from a
        county: the county's basic people's court, or — for an appeal (民终) — the prefecture's
        intermediate court, coded by the province letter and two digits (青23 for Huangnan)."""
        if case_type == "民终":
            prefecture = county6[:4] + "00"
            return (PROVINCE_ABBREVIATIONS[county6[:2]] + county6[2:4],
                    f"{get_region(prefecture).name}中级人民法院")
        return (PROVINCE_ABBREVIATIONS[county6[:2]] + county6[2:],
                f"{get_region(county6).name}人民法院")

    # -- citizens -----------------------------------------------------------
    def citizen(self, index: int) -> Citizen:
        return self.people.get(index)

    def citizen_by_id(self, raw: str) -> Citizen | None:
        try:
            index = self.people.index_of(normalise_resident_id(raw))
        except InvalidIdentifier:
            return None
        return None if index is None else self.people.get(index)

    @cached_property
    def _centre_bits(self) -> npt.NDArray[np.uint8]:
        bits = np.zeros(self.people.n, np.uint8)
        np.bitwise_or.at(bits, self.cols.citizen, (1 << self.cols.centre.astype(np.uint8)))
        return bits

    def centres_of(self, index: int) -> set[Centre]:
        bits = int(self._centre_bits[index])
        return {c for i, c in enumerate(CENTRES) if bits >> i & 1}

    def sample_citizens(self, n: int) -> list[str]:
        """IDs of ``n`` citizens (spread over the population) with matters at ≥ 3 centres."""
        counts = np.array([bin(b).count("1") for b in range(32)])[self._centre_bits]
        eligible = np.flatnonzero(counts >= 3)
        picks = eligible[np.linspace(0, len(eligible) - 1, min(n, len(eligible))).astype(int)]
        return [self.people.id_number(int(i)) for i in picks]

    def matters_of(self, id_number: str) -> list[tuple[Centre, str]]:
        """Every (centre, native id) where this citizen is the primary party."""
        citizen = self.citizen_by_id(id_number)
        if citizen is None:
            return []
        rows = np.flatnonzero(self.cols.citizen == citizen.index)
        return [(CENTRES[int(self.cols.centre[r])], self.native_id(int(r))) for r in rows]

    # -- records ------------------------------------------------------------
    def matter(self, row: int) -> Matter:
        cols = self.cols
        c = int(cols.centre[row])
        citizen = self.people.get(int(cols.citizen[row]))
        other = int(cols.other[row])
        link = int(cols.link[row])

        def opt(value: np.int64) -> int | None:
            return int(value) if value >= 0 else None

        return Matter(
            row=row, centre=CENTRES[c], native_id=self.native_id(row), citizen=citizen,
            other=self.people.get(other) if other >= 0 else None,
            stored_id=_spelling(citizen.id_number, int(cols.idvar[row])),
            region_code=village_table()[0][int(cols.village[row])],
            category=int(cols.category[row]), sub=int(cols.sub[row]),
            status=STATUSES[c][int(cols.status[row])], received=int(cols.recv[row]),
            accepted=opt(cols.acc[row]), closed=opt(cols.closed[row]),
            due=int(cols.due[row]) if cols.due[row] < 2**60 else None, due2=opt(cols.due2[row]),
            extension_days=int(cols.ext[row]), opinion=opt(cols.opinion[row]),
            reviews=(opt(cols.reviews[row, 0]), opt(cols.reviews[row, 1]), opt(cols.reviews[row, 2]),
                     opt(cols.reviews[row, 3])),
            overdue=bool(cols.overdue[row]), story=int(cols.story[row]),
            side=int(cols.side[row]), partner_id=self.native_id(link) if link >= 0 else None,
            partner_row=link if link >= 0 else None, tie=int(cols.tie[row]),
            rng=np.random.default_rng((self.seed, row)),
        )

    # -- search -------------------------------------------------------------
    def search(self, centre: Centre, *, party_ids: Sequence[str] | None = None,
               prefixes: Sequence[str] | None = None, statuses: Iterable[int] | None = None,
               categories: Iterable[int] | None = None, subs: Iterable[int] | None = None,
               received_from: int | None = None, received_to: int | None = None,
               overdue: bool | None = None) -> npt.NDArray[np.int64]:
        """Matching rows of ``centre``, newest first (received desc, native id desc).

        ``party_ids`` match the stored spelling exactly, as the real systems do.
        Empty filters (``None``) match everything; time bounds are inclusive.
        """
        cols, span = self.cols, self.rows(centre)
        lo, hi = span.start, span.stop
        if received_from is not None:
            lo += int(np.searchsorted(cols.recv[lo:hi], received_from, "left"))
        if received_to is not None:
            hi = span.start + int(np.searchsorted(cols.recv[span.start:hi], received_to, "right"))
        if hi <= lo:
            return np.zeros(0, np.int64)
        mask = np.ones(hi - lo, bool)
        if party_ids is not None:
            mask &= self._party_mask(centre, party_ids, lo, hi)
        if prefixes is not None:
            codes = village_table()[0]
            ok = np.array([any(code.startswith(p) for p in prefixes) for code in codes])
            mask &= ok[cols.village[lo:hi]]
        for column, wanted in ((cols.status, statuses), (cols.category, categories),
                               (cols.sub, subs)):
            if wanted is not None:
                mask &= np.isin(column[lo:hi], np.fromiter(wanted, np.int64))
        if overdue is not None:
            mask &= cols.overdue[lo:hi] == overdue
        return np.asarray(np.flatnonzero(mask)[::-1] + lo, np.int64)

    def _party_mask(self, centre: Centre, raws: Sequence[str], lo: int,
                    hi: int) -> npt.NDArray[np.bool_]:
        cols = self.cols
        mask = np.zeros(hi - lo, bool)
        for raw in raws:
            citizen = self.citizen_by_id(raw)
            if citizen is None:
                continue
            spellings = [_spelling(citizen.id_number, v) for v in range(3)]
            if raw not in spellings:
                continue
            variant = spellings.index(raw) if raw != citizen.id_number else 0
            primary = cols.citizen[lo:hi] == citizen.index
            if centre is Centre.PETITIONS:
                mask |= primary & (cols.idvar[lo:hi] == variant)
            elif variant == 0:
                mask |= primary | (cols.other[lo:hi] == citizen.index)
        return mask


def _spelling(canonical: str, variant: int) -> str:
    """Variant 1 = legacy 15 digits (if born 19xx), 2 = lowercase x (if it ends in X)."""
    if variant == 1:
        return to_legacy_15(canonical) or canonical
    if variant == 2:
        return canonical[:-1] + canonical[-1].lower()
    return canonical
