"""Periods as the Civil Code counts them (民法典 第二百条至第二百零四条). Pure: no I/O.

Every deadline in OneDoor is computed here; nothing else adds days to a date.

- Art.200: periods are counted by the Gregorian calendar in years, months,
  days and hours (按照公历年、月、日、小时计算).
- Art.201: a period in days starts the day *after* the start day
  (开始的当日不计入，自下一日开始计算) — :func:`add_days`.
- Art.202: a period in months or years ends on the corresponding day of the
  last month; if that month has no such day, on its last day
  (到期月的对应日为期间的最后一日；没有对应日的，月末日为期间的最后一日) —
  :func:`add_months`. 01-31 + 1 month → 02-29 (2024).
- Art.203 ¶1: when the last day is a statutory rest day (法定休假日), the day
  after the rest ends is the last day (以法定休假日结束的次日为期间的最后一日) —
  :func:`roll_forward`.
- Art.203 ¶2: the last day ends at 24:00 (期间的最后一日的截止时间为二十四时) —
  :func:`end_of_day`; a time given as a date alone means that whole day
  (:func:`met_by`).

Rest days (the product's reading, docs/deadlines.md): a day is a 法定休假日
when the State Council's yearly holiday notice makes it a day off — public
holidays *and* ordinary weekends, unless the notice makes a weekend a working
day (调休). That is how courts read 节假日 in 民事诉讼法 第八十五条 (weekends
included), and it never makes a deadline earlier than a reading without
weekends would — a supervisor's flag must not fire a day early. The calendar is the ``chinese-calendar``
package, which tracks those notices; a day in a year it does not know raises
:class:`DeadlineUnknown` instead of being guessed. A notice published after
the installed package (the next year's comes out each November or December)
is added with :func:`add_notice` — the gateway reads them from ``[calendar]
notices`` at start — without waiting for a release.

>>> last_day(dt.date(2024, 9, 16), days=15)  # 10-01 is National Day; rest until 10-07
datetime.date(2024, 10, 8)
>>> last_day(dt.date(2024, 1, 31), months=1)
datetime.date(2024, 2, 29)
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable, Iterable
from functools import lru_cache

import chinese_calendar

from onedoor.model import CST

__all__ = [
    "KNOWN_YEARS",
    "DeadlineUnknown",
    "add_days",
    "add_months",
    "add_notice",
    "due_at",
    "end_of_day",
    "is_rest_day",
    "knows",
    "last_day",
    "local_day",
    "met_by",
    "on_calendar_change",
    "roll_forward",
]

_DAYS_OFF = set(chinese_calendar.holidays)
_WORKDAYS = set(chinese_calendar.workdays)
_YEARS = sorted({d.year for d in (*_DAYS_OFF, *_WORKDAYS)})
# The years whose State Council holiday notice the package holds (2004 … its newest notice).
KNOWN_YEARS = range(_YEARS[0], _YEARS[-1] + 1)
_ADDED_YEARS: set[int] = set()  # notices added at run time (add_notice)
_ON_CHANGE: list[Callable[[], None]] = []


def knows(year: int) -> bool:
    """Whether the holiday notice of ``year`` is known (packaged or added)."""
    return year in KNOWN_YEARS or year in _ADDED_YEARS


def on_calendar_change(forget: Callable[[], None]) -> None:
    """``forget`` runs when a notice is added: caches of computed periods register here."""
    _ON_CHANGE.append(forget)


def add_notice(year: int, days_off: Iterable[dt.date], workdays: Iterable[dt.date] = ()) -> None:
    """Add the State Council's holiday notice for ``year`` (放假安排): its days off
    (public holidays, including the weekends inside them) and its 调休 working
    weekends. Ordinary weekends need not be listed. Raises ``ValueError`` for a
    day outside ``year`` or one listed as both."""
    off, work = set(days_off), set(workdays)
    if any(d.year != year for d in off | work):
        raise ValueError(f"holiday notice {year}: every day must be in {year}")
    if off & work:
        raise ValueError(f"holiday notice {year}: {sorted(off & work)[0]} is both a day off and a workday")
    for days, new in ((_DAYS_OFF, off), (_WORKDAYS, work)):  # the notice replaces that year's
        days.difference_update([d for d in days if d.year == year])
        days.update(new)
    _ADDED_YEARS.add(year)
    roll_forward.cache_clear()
    for forget in _ON_CHANGE:
        forget()


class DeadlineUnknown(ValueError):
    """A period's last day cannot be fixed: the holiday notice for ``day``'s year
    is not in the calendar (``chinese-calendar`` knows ``KNOWN_YEARS``)."""

    def __init__(self, day: dt.date) -> None:
        super().__init__(
            f"no State Council holiday notice known for {day.year} (calendar covers "
            f"{KNOWN_YEARS.start}–{KNOWN_YEARS.stop - 1}); the last day on or after {day} cannot be fixed")
        self.day = day


def local_day(at: dt.datetime | dt.date) -> dt.date:
    """The CST calendar day of a moment (a date is its own day)."""
    if isinstance(at, dt.datetime):
        return at.astimezone(CST).date()
    return at


def add_days(start: dt.datetime | dt.date, days: int) -> dt.date:
    """Nominal last day of a period of ``days`` days from ``start`` (Art.201: the start
    day is not counted), before any rest-day roll-forward."""
    return local_day(start) + dt.timedelta(days=days)


def add_months(start: dt.datetime | dt.date, months: int) -> dt.date:
    """Nominal last day of a period of ``months`` months (Art.202): the corresponding
    day of the last month, or that month's last day when it has none.

    >>> add_months(dt.date(2024, 3, 15), 1)
    datetime.date(2024, 4, 15)
    """
    day = local_day(start)
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    month = month0 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def is_rest_day(day: dt.date) -> bool:
    """A 法定休假日: a holiday or a weekend that the notice did not make a working day."""
    if not knows(day.year):
        raise DeadlineUnknown(day)
    return day in _DAYS_OFF or (day.weekday() >= 5 and day not in _WORKDAYS)


@lru_cache(maxsize=4096)
def roll_forward(day: dt.date) -> dt.date:
    """Art.203 ¶1: a last day that is a rest day moves to the first working day after it."""
    while is_rest_day(day):
        day += dt.timedelta(days=1)
    return day


def last_day(start: dt.datetime | dt.date, *, days: int = 0, months: int = 0) -> dt.date:
    """The last day of a period from ``start``: Art.201/202 then Art.203 ¶1.
    Raises :class:`DeadlineUnknown` when the calendar cannot tell."""
    nominal = add_months(start, months) if months else local_day(start)
    return roll_forward(add_days(nominal, days))


def end_of_day(day: dt.date) -> dt.datetime:
    """Art.203 ¶2: the instant a last day ends — 24:00 CST, i.e. the next midnight."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), CST)


def due_at(start: dt.datetime | dt.date, *, days: int = 0, months: int = 0) -> dt.datetime:
    """The instant a period from ``start`` runs out (end of its last day)."""
    return end_of_day(last_day(start, days=days, months=months))


def met_by(done: dt.datetime | dt.date, last: dt.date) -> bool:
    """Whether an act done at ``done`` falls within a period whose last day is ``last``.
    A date without a time means that whole day: done on the last day is in time,
    done the day after is late (Art.203 ¶2)."""
    if isinstance(done, dt.datetime):
        return done <= end_of_day(last)
    return done <= last
