"""The ``overdue`` list's view of :mod:`onedoor.deadlines`. Pure: no I/O.

The rules (which period, from which event, met by which event) and the day
counting (民法典 Art.200–204, holidays, end of the last day) are domain code
in :mod:`onedoor.deadlines` and :mod:`onedoor.periods`; the ``overdue`` field,
the ``overdue`` filter and this list all ask the same function, so they agree.
An item is listed while the matter is open and any of its deadlines was
missed — met late (a late acceptance, a late decision) or still unmet and past.

>>> calendar_deadline(dt.date(2024, 3, 1), 15)  # 03-16 is a Saturday → Monday
datetime.date(2024, 3, 18)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum

from onedoor import deadlines, periods
from onedoor.deadlines import RULES, Rule
from onedoor.model import MatterRecord

__all__ = ["STATUTES", "DayCount", "Overdue", "calendar_deadline", "overdue_of"]

STATUTES: dict[str, Rule] = RULES


class DayCount(Enum):
    CALENDAR_DAYS = "CALENDAR_DAYS"  # 自然日（开始当日不计入，末日逢法定休假日顺延）
    CALENDAR_MONTHS = "CALENDAR_MONTHS"  # 按月（到期月对应日，民法典第二百零二条）
    ELAPSED_TIME = "ELAPSED_TIME"  # 按时计（中心自报的届满时刻）


def day_count(rule: Rule) -> DayCount:
    if rule.elapsed:
        return DayCount.ELAPSED_TIME
    return DayCount.CALENDAR_MONTHS if rule.months else DayCount.CALENDAR_DAYS


@dataclass(frozen=True, slots=True)
class Overdue:
    record: MatterRecord
    deadline: deadlines.Deadline
    due: dt.datetime  # the instant the deadline passed
    days_overdue: int


def calendar_deadline(start: dt.datetime | dt.date, days: int) -> dt.date:
    """The last day of an N-day period starting on ``start`` (:func:`onedoor.periods.last_day`)."""
    return periods.last_day(start, days=days)


def overdue_of(r: MatterRecord, as_of: dt.datetime) -> Overdue | None:
    """The first deadline an open matter had missed by ``as_of``, if any (closed by then: none)."""
    if r.closed_at is not None and r.closed_at <= as_of:
        return None
    missed = deadlines.missed(r, as_of)
    if missed is None or missed.due is None:
        return None
    return Overdue(r, missed, missed.due, missed.days_late(as_of))
