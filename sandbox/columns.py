"""Vectorised generation of the matter columns of a :class:`~sandbox.world.World`.

One row per matter. Rows are sorted by (centre, received time, tie key) so each
centre is a contiguous slice ordered oldest first; a matter's native id embeds
its 1-based position in that slice, which is how a lookup finds the row
without a dictionary. The tie key mirrors the native id's string order, so
"received desc, id desc" is simply "row desc".

Cross-centre stories are generated as pairs: the two rows share citizen,
counter-party and category, the second is received after the first's
milestone, and each points at the other (``link``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from onedoor.model import CATEGORIES
from sandbox.lifecycle import DAY, SUB_WEIGHTS, plan, status_of
from sandbox.people import Citizens, village_table

__all__ = ["LAWSUIT", "STORIES", "Columns", "build_columns"]

I64 = npt.NDArray[np.int64]
MED, LEG, PET, LIT, GOV = range(5)
# (centre A, centre B, B is first, forced sub A/B, forced alt A/B, milestone of first, delay days)
STORIES: tuple[tuple[int, int, bool, int, int, int, int, str, float, float], ...] = (
    (GOV, MED, False, -1, -1, 0, -1, "acc", 0.1, 2.0),  # grid event referred to mediation
    (MED, LIT, False, -1, 4, 0, 0, "end", 1.0, 25.0),  # agreement → judicial confirmation
    (MED, PET, False, -1, -1, 1, -1, "end", 1.0, 20.0),  # failed mediation → petition
    (LEG, LIT, False, 1, 0, 0, -1, "acc", 5.0, 30.0),  # legal aid ↔ court case
    (MED, LIT, True, -1, 3, -1, -1, "acc", 0.5, 3.0),  # pre-litigation mediation
    (GOV, PET, False, -1, -1, 0, -1, "recv", 5.0, 30.0),  # grid event → petition
)
# 调解不成起诉: not generated as a pair but found afterwards (a failed mediation and the same citizen's
# later first-instance civil case); side 0 = the mediation, 1 = the court case. Rare by construction.
LAWSUIT = len(STORIES)
_LAWSUIT_WITHIN = 365 * DAY
_LEGAL_PREFIX_RANK = np.array([4, 1, 2, 3, 0])  # ZX FY GZ JZ AZ in string order


@dataclass(slots=True)
class Columns:
    centre: npt.NDArray[np.int8]
    citizen: npt.NDArray[np.int32]
    other: npt.NDArray[np.int32]  # counter-party citizen or -1
    village: npt.NDArray[np.int16]
    category: npt.NDArray[np.int8]
    sub: npt.NDArray[np.int8]
    recv: I64
    acc: I64
    closed: I64
    due: I64
    due2: I64
    ext: npt.NDArray[np.int8]  # petitions: an approved handling extension, days (Art.34)
    opinion: I64  # petitions: the handling opinion (办结), kept while a review reopens the matter
    reviews: I64  # petitions: (n, 4) 复查 requested, decided, 复核 requested, decided (-1 = not yet)
    status: npt.NDArray[np.int8]
    overdue: npt.NDArray[np.bool_]
    link: I64
    story: npt.NDArray[np.int8]
    side: npt.NDArray[np.int8]
    idvar: npt.NDArray[np.int8]  # petitions: 0 canonical, 1 legacy 15-digit, 2 lowercase x
    tie: npt.NDArray[np.int16]  # rank among rows of a centre received in the same second
    starts: I64  # first row of each centre, plus the total


def build_columns(rng: np.random.Generator, people: Citizens, n: int, now: int) -> Columns:
    c_count = people.n
    pairs = int(n * 0.12)
    singles = n - 2 * pairs
    story = rng.choice(len(STORIES), pairs, p=[0.2, 0.15, 0.15, 0.15, 0.2, 0.15])
    table = np.array([s[:7] for s in STORIES], dtype=np.int64)
    centre = np.empty(n, np.int64)
    centre[:pairs], centre[pairs:2 * pairs] = table[story, 0], table[story, 1]
    j = np.arange(singles)
    offset = rng.integers(0, 5, c_count)
    single_cit = j % c_count
    centre[2 * pairs:] = (offset[single_cit] + j // c_count) % 5
    citizen = np.concatenate([np.tile(rng.integers(0, c_count, pairs), 2), single_cit])
    other = np.where(rng.random(n) < 0.4, rng.integers(0, c_count, n), -1)
    other[pairs:2 * pairs] = other[:pairs]
    other = np.where((other == citizen) | (centre == PET), -1, other)
    cat = rng.choice(len(CATEGORIES), n, p=_category_weights())
    cat[pairs:2 * pairs] = cat[:pairs]
    # A family or neighbour dispute is between people: no organisation on the other side
    # (-1 renders as one of the county's employers). A generator of its own, so every
    # other column stays as the seed always drew it.
    person = np.random.default_rng((n, c_count, 2260)).integers(0, c_count, n)
    person[pairs:2 * pairs] = person[:pairs]
    personal = np.isin(cat, [CATEGORIES.index("婚姻家庭"), CATEGORIES.index("邻里")]) & (other < 0) & (centre != PET)
    other = np.where(personal & (person != citizen), person, other)
    cat = np.where((centre == GOV) & (rng.random(n) < 0.3) & (np.arange(n) >= 2 * pairs),
                   len(CATEGORIES) + rng.integers(0, 3, n), cat)
    sub = np.zeros(n, np.int64)
    for c, weights in enumerate(SUB_WEIGHTS):
        mask = centre == c
        sub[mask] = rng.choice(len(weights), int(mask.sum()), p=weights)
    minor = (np.datetime64(_date(now), "D").astype(np.int64) - people.birth[citizen]) < 18 * 365
    sub = np.where((centre == LEG) & minor & (rng.random(n) < 0.7), 3, sub)
    forced = np.full(n, -1, np.int64)
    for side in (0, 1):
        rows = slice(side * pairs, (side + 1) * pairs)
        sub[rows] = np.where(table[story, 3 + side] >= 0, table[story, 3 + side], sub[rows])
        forced[rows] = table[story, 5 + side]
    first_is_b = table[story, 2].astype(bool)
    a_rows, b_rows = np.arange(pairs), np.arange(pairs, 2 * pairs)
    first = np.where(first_is_b, b_rows, a_rows)
    second = np.where(first_is_b, a_rows, b_rows)
    is_second = np.zeros(n, bool)
    is_second[second] = True
    age = np.where(np.arange(n) < 2 * pairs, 60 + (640 * rng.random(n)).astype(np.int64),
                   1 + (729 * rng.random(n) ** 1.3).astype(np.int64))
    recv = (now // DAY - age) * DAY - 8 * 3600 + 30_600 + rng.integers(0, 32_400, n)
    u = rng.random((n, 4))
    acc, end, due, alt = (np.zeros(n, np.int64) for _ in range(4))
    for phase in (False, True):
        if phase:
            kinds = np.array([("acc", "end", "recv").index(s[7]) for s in STORIES])[story]
            milestone = np.stack([acc[first], end[first], recv[first]])[kinds, np.arange(pairs)]
            lo = np.array([s[8] for s in STORIES])[story]
            hi = np.array([s[9] for s in STORIES])[story]
            delay = ((lo + (hi - lo) * rng.random(pairs)) * DAY).astype(np.int64)
            recv[second] = np.minimum(milestone + delay, now - 3600)
        for c in range(5):
            idx = np.flatnonzero((centre == c) & (is_second == phase))
            p = plan(c, recv[idx], sub[idx], cat[idx], u[idx], forced[idx].astype(np.int8))
            acc[idx], end[idx], due[idx], alt[idx] = p.acc, p.end, p.due, p.alt
    cols = _finish(rng, people, now, centre, citizen, other, cat, sub, recv, acc, end, due,
                   alt.astype(bool), u, story, pairs)
    _link_lawsuits(cols)
    return cols


def _link_lawsuits(cols: Columns) -> None:
    """调解不成起诉: a terminated mediation (ZZ) and a first-instance civil case (民初) that the same
    citizen filed within a year after it, neither already in a story, are one dispute that went
    on to court; they point at each other (and the case takes the mediation's category and
    other side: the employer the wage claim was mediated with is the one sued)."""
    med = np.arange(cols.starts[MED], cols.starts[MED + 1])
    med = med[(cols.status[med] == 6) & (cols.link[med] < 0) & (cols.closed[med] >= 0)]
    lit = np.arange(cols.starts[LIT], cols.starts[LIT + 1])
    lit = lit[(cols.sub[lit] == 0) & (cols.link[lit] < 0)]
    filed: dict[int, list[int]] = {}
    for row in lit.tolist():
        filed.setdefault(int(cols.citizen[row]), []).append(row)
    for m in med.tolist():
        for row in filed.get(int(cols.citizen[m]), ()):
            if cols.link[row] < 0 and 0 < cols.recv[row] - cols.closed[m] <= _LAWSUIT_WITHIN:
                cols.link[m], cols.link[row] = row, m
                cols.story[m] = cols.story[row] = LAWSUIT
                cols.side[m], cols.side[row] = 0, 1
                cols.category[row] = cols.category[m]
                cols.other[row] = cols.other[m]
                break


def _finish(rng: np.random.Generator, people: Citizens, now: int, centre: I64, citizen: I64,
            other: I64, cat: I64, sub: I64, recv: I64, acc: I64, end: I64, due: I64,
            alt: npt.NDArray[np.bool_], u: npt.NDArray[np.float64], story: I64,
            pairs: int) -> Columns:
    from sandbox.lifecycle import Plan

    n = len(centre)
    status = np.zeros(n, np.int64)
    acc_now, closed, due2 = (np.full(n, -1, np.int64) for _ in range(3))
    ext, opinion = np.zeros(n, np.int64), np.full(n, -1, np.int64)
    reviews = np.full((n, 4), -1, np.int64)
    overdue = np.zeros(n, bool)
    for c in range(5):
        idx = np.flatnonzero(centre == c)
        p = Plan(acc[idx], end[idx], due[idx], 0, alt[idx])
        o = status_of(c, p, recv[idx], sub[idx], now, u[idx])
        status[idx], acc_now[idx], closed[idx], due2[idx], overdue[idx] = o.status, o.acc, o.closed, o.due2, o.overdue
        ext[idx], opinion[idx], reviews[idx] = o.ext, o.opinion, o.reviews
    village = people.village[citizen].astype(np.int64)
    codes, _ = village_table()
    _, county_rank = np.unique([c[:6] for c in codes], return_inverse=True)
    tiekey = np.asarray(county_rank, np.int64)[village]
    tiekey = np.where(centre == LEG, _LEGAL_PREFIX_RANK[sub] * 1000 + tiekey, tiekey)
    order = np.lexsort((tiekey, recv, centre))
    inverse = np.empty(n, np.int64)
    inverse[order] = np.arange(n)
    link = np.full(n, -1, np.int64)
    link[:pairs] = np.arange(pairs, 2 * pairs)
    link[pairs:2 * pairs] = np.arange(pairs)
    story_col = np.full(n, -1, np.int64)
    story_col[:pairs] = story_col[pairs:2 * pairs] = story
    side = np.zeros(n, np.int64)
    side[pairs:2 * pairs] = 1
    idvar = np.zeros(n, np.int64)
    legacy = (centre == PET) & people.born_19xx()[citizen] & (rng.random(n) < 0.25)
    lower = (centre == PET) & people.ends_x()[citizen] & (rng.random(n) < 0.5)
    idvar = np.where(legacy, 1, np.where(lower, 2, idvar))
    sorted_key = (centre * (1 << 40) + recv)[order]
    group = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
    tie = np.arange(n) - np.repeat(group, np.diff(np.r_[group, n]))
    linked = link[order]
    return Columns(
        centre=centre[order].astype(np.int8), citizen=citizen[order].astype(np.int32),
        other=other[order].astype(np.int32), village=village[order].astype(np.int16),
        category=cat[order].astype(np.int8), sub=sub[order].astype(np.int8), recv=recv[order],
        acc=acc_now[order], closed=closed[order], due=due[order], due2=due2[order],
        ext=ext[order].astype(np.int8), opinion=opinion[order], reviews=reviews[order],
        status=status[order].astype(np.int8), overdue=overdue[order],
        link=np.where(linked >= 0, inverse[np.maximum(linked, 0)], -1),
        story=story_col[order].astype(np.int8), side=side[order].astype(np.int8),
        idvar=idvar[order].astype(np.int8), tie=np.minimum(tie, 999).astype(np.int16),
        starts=np.searchsorted(centre[order], np.arange(6)).astype(np.int64),
    )


def _category_weights() -> list[float]:
    weights = np.ones(len(CATEGORIES))
    weights[[0, 1, 2, 9]] = 3.0  # family, neighbours, homestead and labour dominate
    return list(weights / weights.sum())


def _date(ts: int) -> str:
    return str(np.datetime64((ts + 8 * 3600) // DAY, "D"))
