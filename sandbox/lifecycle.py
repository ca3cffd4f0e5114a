"""Per-centre lifecycles as vectorised numpy rules.

Every matter gets a planned milestone time ``acc`` (acceptance, decision or
dispatch), a planned end ``end`` and a terminal kind; its status is then
read off the world's ``now`` so that statuses, dates and deadlines always
agree: a closed matter has a closed date, an open one has none, and
``overdue`` is computed from the statutory deadline exactly as a centre would.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from onedoor import periods
from onedoor.model import CATEGORIES

__all__ = [
    "CASE_TYPES", "EVENT_TYPES", "EXTENSION_DAYS", "LIT_LIMIT_DAYS", "SERVICE_TYPES", "STATUSES", "XFLB",
    "Outcome", "Plan", "last_day", "plan", "status_of",
]

I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]
DAY = 86_400
NEVER = np.iinfo(np.int64).max // 4

STATUSES: tuple[tuple[str, ...], ...] = (
    ("DJ", "XXTJ", "FXYP", "FLLZ", "GZDB", "AJSL", "ZZ"),
    ("submitted", "under_review", "approved", "assigned", "closed", "rejected", "terminated"),
    ("01", "02", "03", "04", "05", "06", "07", "08", "09"),  # 08 复查中, 09 复核中 (条例 Art.35, 36)
    ("FILED", "ACCEPTED", "TRIAL", "MEDIATED", "JUDGED", "CLOSED", "WITHDRAWN", "DISMISSED"),
    ("REPORTED", "VERIFIED", "OPENED", "CANCELLED", "DISPATCHED", "HANDLING", "FEEDBACK",
     "CLOSED", "EVALUATED"),
)
SERVICE_TYPES = ("consultation", "legal_aid", "notarization", "community_correction",
                 "resettlement")
XFLB = ("JYYJ", "JJKG", "SSQJ")
CASE_TYPES = ("民初", "民终", "执", "诉前调", "民特")
LIT_LIMIT_DAYS = (180, 90, 180, 30, 18)
EXTENSION_DAYS = 30  # 信访工作条例 Art.34: a handling period extended once, by at most 30 days
EVENT_TYPES = (*CATEGORIES, "安全隐患", "社会治安", "环境卫生")
SUB_WEIGHTS: tuple[tuple[float, ...], ...] = (
    (0.55, 0.2, 0.1, 0.15),  # mediation type RM XZ SF HY
    (0.35, 0.3, 0.1, 0.15, 0.1),
    (0.2, 0.2, 0.6),
    (0.45, 0.1, 0.1, 0.25, 0.1),
    (1.0,),
)


@dataclass(slots=True)
class Plan:
    """Planned times of a set of rows (epoch seconds; ``NEVER`` = not planned)."""

    acc: I64
    end: I64
    due: I64
    due2_days: int  # petitions: handling limit counted from acceptance, else 0
    alt: B  # the "other" terminal outcome (ZZ, rejected, cancelled, …)


def day_end(ts: I64, days: int | I64 = 0, months: int = 0) -> I64:
    """The end (24:00 CST) of the last day of a period of ``days`` days (or ``months``
    months) from ``ts`` — counted as 民法典 Art.201–203 count it, by
    :func:`onedoor.periods.last_day` (the start day not counted, a month to the
    corresponding day, a last day on a rest day moved past the rest). Like any
    centre's system, a year whose holiday notice is not out yet is counted
    without rest days. Vectorised over the distinct (day, days) pairs."""
    ts = np.asarray(ts, np.int64)
    local_day = (ts + 8 * 3600) // DAY
    span = np.broadcast_to(np.asarray(days, np.int64), ts.shape)
    pairs, inverse = np.unique(np.stack([local_day, span]).reshape(2, -1), axis=1, return_inverse=True)
    ends = np.fromiter((_end(int(d), int(n), months) for d, n in pairs.T), np.int64, pairs.shape[1])
    return np.asarray(ends[inverse.reshape(-1)].reshape(ts.shape), np.int64)


_EPOCH = dt.date(1970, 1, 1)


def last_day(start: dt.date, days: int = 0, months: int = 0) -> dt.date:
    """The last day of a period as a centre's system counts it: :func:`onedoor.periods.last_day`,
    or without rest days for a year whose holiday notice it does not have yet."""
    return _last(start, days, months)


@lru_cache(maxsize=65_536)
def _end(day: int, days: int, months: int) -> int:
    return int(periods.end_of_day(_last(_EPOCH + dt.timedelta(days=day), days, months)).timestamp())


def _last(start: dt.date, days: int, months: int) -> dt.date:
    try:
        return periods.last_day(start, days=days, months=months)
    except periods.DeadlineUnknown:
        return periods.add_days(periods.add_months(start, months), days)


def plan(centre: int, recv: I64, sub: I64, cat: I64, u: npt.NDArray[np.float64],
         forced_alt: npt.NDArray[np.int8]) -> Plan:
    """Plan the lifecycle of rows of one centre. ``u`` is an (n, 4) uniform draw;
    ``forced_alt`` is -1 (free), 0 (normal outcome) or 1 (alternative outcome)."""
    n = len(recv)
    stuck = u[:, 3] < 0.03  # matters that never finish: the overdue backlog
    share = (0.15, 0.12, 0.1, 0.2, 0.07)[centre]
    alt = np.where(forced_alt >= 0, forced_alt == 1, u[:, 2] < share)
    if centre == 0:  # mediation: registered = accepted, about a month
        acc = recv.copy()
        end = recv + ((2 + 40 * u[:, 0] ** 1.4) * DAY).astype(np.int64)
        due = day_end(recv, months=1)  # 一般在一个月内调结, counted as a month (Art.202)
    elif centre == 1:  # legal services: decision, then service
        quick = np.where(sub == 1, 0.2 + 8.0 * u[:, 0], 0.05 + 2.0 * u[:, 0])
        acc = recv + (quick * DAY).astype(np.int64)
        span = np.choose(sub, [0.1 + 0 * u[:, 1], 30 + 170 * u[:, 1], 5 + 15 * u[:, 1],
                               180 + 540 * u[:, 1], 90 + 300 * u[:, 1]])
        end = acc + (span * DAY).astype(np.int64)
        due = np.where(sub == 1, day_end(recv, 7), NEVER)
        alt = alt & (sub == 1)  # only legal aid is ever rejected
        end = np.where(alt, acc, end)
    elif centre == 2:  # petitions: 15 days to accept, 60 days to handle
        acc = recv + ((0.5 + 16.5 * u[:, 0]) * DAY).astype(np.int64)
        end = np.where(alt, acc, acc + ((10 + 60 * u[:, 1]) * DAY).astype(np.int64))
        due = day_end(recv, 15)
    elif centre == 3:  # litigation: statutory time limits per case type
        limit = np.asarray(LIT_LIMIT_DAYS, dtype=np.int64)[sub]
        acc = recv + ((np.where(sub == 4, 3, 7) * u[:, 0]) * DAY).astype(np.int64)
        end = recv + (limit * (0.2 + 0.95 * u[:, 1]) * DAY).astype(np.int64)
        end = np.maximum(end, acc + 3600)
        due = recv + limit * DAY
    else:  # grid events: dispatch within 3 (disputes) or 7 days; some cancelled
        limit = np.where(cat < len(CATEGORIES), 3, 7) * DAY
        acc = recv + (limit * (0.05 + 1.3 * u[:, 0])).astype(np.int64)
        end = np.where(alt, recv + (0.5 * DAY * (1 + u[:, 1])).astype(np.int64),
                       acc + ((1 + 19 * u[:, 1]) * DAY).astype(np.int64))
        acc = np.where(alt, NEVER, acc)
        due = recv + limit
    end = np.where(stuck & ~alt & (forced_alt < 0), NEVER, end)
    return Plan(np.asarray(acc, np.int64), np.asarray(end, np.int64),
                np.asarray(due, np.int64) + np.zeros(n, np.int64), 60 if centre == 2 else 0,
                np.asarray(alt, np.bool_))


class Outcome(NamedTuple):
    """Rows' state at ``now``; -1 = not (yet) happened."""

    status: npt.NDArray[np.int8]
    acc: I64
    closed: I64  # concluded (a petition under review is open again)
    due2: I64  # petitions: end of the handling period (extension included)
    overdue: B
    ext: I64  # petitions: an approved Art.34 extension, days
    opinion: I64  # petitions: the handling opinion (办结, ``bjrq``), kept while under review
    reviews: I64  # petitions: (n, 4) 复查 requested, decided, 复核 requested, decided


def _reviews(p: Plan, u: npt.NDArray[np.float64], now: int) -> I64:
    """复查/复核 (信访工作条例 Art.35, 36): some petitioners ask for a review within 30 days of
    the opinion; the reviewing body answers within 30 days — mostly. Derived draws keep the
    world's random stream unchanged."""
    def draw(col: int, salt: int) -> npt.NDArray[np.float64]:
        return np.asarray((u[:, col] * salt) % 1.0)

    done = (p.end <= now) & ~p.alt
    reviewed = done & (draw(0, 7919) < 0.15)
    rq = p.end + ((1 + 28 * draw(1, 104_729)) * DAY).astype(np.int64)
    rd = rq + ((5 + 33 * draw(2, 7907)) * DAY).astype(np.int64)
    again = reviewed & (draw(3, 6007) < 0.3)
    rq2 = rd + ((1 + 28 * draw(0, 15_485_863)) * DAY).astype(np.int64)
    rd2 = rq2 + ((5 + 33 * draw(1, 32_452_843)) * DAY).astype(np.int64)
    out = np.full((len(p.end), 4), -1, np.int64)
    for col, (plan_at, happens) in enumerate(((rq, reviewed), (rd, reviewed), (rq2, again), (rd2, again))):
        earlier = out[:, col - 1] >= 0 if col else np.ones(len(p.end), bool)
        out[:, col] = np.where(happens & earlier & (plan_at <= now), plan_at, -1)
    return out


def status_of(centre: int, p: Plan, recv: I64, sub: I64, now: int,
              u: npt.NDArray[np.float64]) -> Outcome:
    """Status and milestones of rows at ``now``."""
    done = p.end <= now
    reached = p.acc <= now
    age = now - recv
    if centre == 0:
        frac = np.clip(age / (30 * DAY), 0, 0.999)
        status = np.where(age < DAY, 0, 1 + (frac * 4).astype(np.int64))
        status = np.where(done, np.where(p.alt, 6, 5), status)
    elif centre == 1:
        status = np.where(reached, np.where(now - p.acc < 3 * DAY, 2, 3),
                          np.where(age < DAY, 0, 1))
        status = np.where(done, np.where(p.alt, 5, np.where(u[:, 2] > 0.93, 6, 4)), status)
    elif centre == 2:
        pick = np.choose((u[:, 1] * 3).astype(np.int64) % 3, [2, 3, 4])
        status = np.where(reached, np.where(now - p.acc < 3 * DAY, 1, pick), 0)
        status = np.where(done, np.where(p.alt, 6, 5), status)
    elif centre == 3:
        status = np.where(reached, np.where((now - p.acc < 5 * DAY) | (sub == 3), 1, 2), 0)
        outcome = np.choose(sub, [np.where(p.alt, 6, np.where(u[:, 1] < 0.5, 4, 3)),
                                  np.where(p.alt, 7, 4), np.full(len(sub), 5),
                                  np.where(p.alt, 5, 3), np.where(p.alt, 7, 4)])
        status = np.where(done, outcome, status)
    else:
        before = np.clip((now - recv) / np.maximum(p.acc - recv, 1), 0, 0.999)
        after = np.clip((now - p.acc) / np.maximum(p.end - p.acc, 1), 0, 0.999)
        status = np.where(reached, 4 + (after * 3).astype(np.int64), (before * 3).astype(np.int64))
        closed_kind = np.where((now - p.end > 2 * DAY) & (u[:, 2] < 0.6), 8, 7)
        status = np.where(done, np.where(p.alt, 3, closed_kind), status)
    acc = np.where(reached, p.acc, -1)
    closed = np.where(done, p.end, -1)
    opinion = closed
    second = np.full(len(recv), -1, dtype=np.int64)
    ext = np.zeros(len(recv), dtype=np.int64)
    reviews = np.full((len(recv), 4), -1, np.int64)
    if centre == 2:
        # Half of the petitions that need more than 60 days get the once-only extension (Art.34).
        ext = np.where(reached & ~p.alt & (p.end - p.acc > 60 * DAY) & (u[:, 2] >= 0.5), EXTENSION_DAYS, 0)
        second = np.where(reached & ~p.alt, day_end(np.where(reached, p.acc, recv), 60 + ext), -1)
        reviews = _reviews(p, u, now)
        in_review = (reviews[:, 0] >= 0) & (reviews[:, 1] < 0)
        in_second = (reviews[:, 2] >= 0) & (reviews[:, 3] < 0)
        status = np.where(in_second, 8, np.where(in_review, 7, status))
        closed = np.where(in_review | in_second, -1, closed)
    overdue = _overdue(centre, p, acc, opinion, second, now, reviews)
    return Outcome(status.astype(np.int8), acc, closed, second, overdue, ext, opinion, reviews)


def _overdue(centre: int, p: Plan, acc: I64, closed: I64, second: I64, now: int, reviews: I64) -> B:
    acc_or_now = np.where(acc >= 0, acc, now)
    end_or_now = np.where(closed >= 0, closed, now)
    if centre in (1, 4):  # the deadline is on the decision / dispatch step
        late = (p.due < NEVER) & (acc_or_now > p.due)
        return np.asarray(late & ~(p.alt & (centre == 4)), np.bool_)
    if centre == 2:
        late_accept = acc_or_now > p.due
        late_handle = (second >= 0) & (end_or_now > second)
        late = late_accept | late_handle
        for asked, answered in ((0, 1), (2, 3)):  # 复查, 复核: answered within 30 days (Art.35, 36)
            requested = reviews[:, asked] >= 0
            limit = day_end(np.where(requested, reviews[:, asked], p.acc), 30)
            late |= requested & (np.where(reviews[:, answered] >= 0, reviews[:, answered], now) > limit)
        return np.asarray(late, np.bool_)
    return np.asarray(end_or_now > p.due, np.bool_)
