"""onedoor.periods: each rule of 民法典 第二百条至第二百零四条, quoted, with the cases of issue 12."""

from __future__ import annotations

import datetime as dt

import pytest

from onedoor.model import CST
from onedoor.periods import (
    KNOWN_YEARS,
    DeadlineUnknown,
    add_days,
    add_months,
    due_at,
    end_of_day,
    is_rest_day,
    last_day,
    met_by,
    roll_forward,
)

D = dt.date


def test_art201_the_start_day_is_not_counted() -> None:
    """第二百零一条：按照年、月、日计算期间的，开始的当日不计入，自下一日开始计算。"""
    assert add_days(D(2024, 3, 1), 15) == D(2024, 3, 16)
    # A moment counts by its CST day: 23:30 on 03-01 in Beijing is still 03-01.
    assert add_days(dt.datetime(2024, 3, 1, 15, 30, tzinfo=dt.UTC), 15) == D(2024, 3, 16)


@pytest.mark.parametrize(("start", "months", "last"), [
    (D(2024, 1, 31), 1, D(2024, 2, 29)),  # leap year: no 02-31, the month's last day
    (D(2023, 1, 31), 1, D(2023, 2, 28)),
    (D(2024, 3, 15), 1, D(2024, 4, 15)),  # the corresponding day, not 30 days
    (D(2024, 12, 15), 1, D(2025, 1, 15)),  # across the year
    (D(2024, 8, 31), 3, D(2024, 11, 30)),
])
def test_art202_a_month_ends_on_the_corresponding_day(start: dt.date, months: int, last: dt.date) -> None:
    """第二百零二条：按照年、月计算期间的，到期月的对应日为期间的最后一日；没有对应日的，月末日为期间的最后一日。"""
    assert add_months(start, months) == last


@pytest.mark.parametrize(("start", "days", "last"), [
    (D(2024, 9, 16), 15, D(2024, 10, 8)),  # 10-01 National Day, rest until 10-07
    (D(2024, 1, 31), 60, D(2024, 4, 1)),  # 03-31 is a Sunday
    (D(2024, 1, 27), 15, D(2024, 2, 18)),  # 02-11 in the Spring Festival; 02-18 (Sun) is a 调休 working day
    (D(2024, 3, 1), 15, D(2024, 3, 18)),  # 03-16 Saturday → Monday
    (D(2024, 3, 1), 14, D(2024, 3, 15)),  # a Friday stays
])
def test_art203_a_last_day_on_a_rest_day_moves_to_the_day_after_the_rest(
        start: dt.date, days: int, last: dt.date) -> None:
    """第二百零三条第一款：期间的最后一日是法定休假日的，以法定休假日结束的次日为期间的最后一日。"""
    assert last_day(start, days=days) == last


def test_art203_weekends_are_rest_days_unless_the_notice_makes_them_working_days() -> None:
    """The product's reading (docs/deadlines.md): weekends count as 法定休假日; a 调休 weekend does not."""
    assert is_rest_day(D(2024, 3, 31))  # Sunday
    assert not is_rest_day(D(2024, 2, 4))  # Sunday, made a working day for the Spring Festival
    assert is_rest_day(D(2024, 10, 1))
    assert roll_forward(D(2024, 4, 1)) == D(2024, 4, 1)


def test_art202_and_203_compose_month_then_rest_day() -> None:
    """A month period whose corresponding day is a rest day: Art.202, then Art.203."""
    assert last_day(D(2024, 2, 29), months=1) == D(2024, 3, 29)  # a Friday
    assert last_day(D(2024, 2, 28), months=1) == D(2024, 3, 28)
    assert last_day(D(2024, 8, 30), months=1) == D(2024, 9, 30)  # Monday
    assert last_day(D(2024, 9, 1), months=1) == D(2024, 10, 8)  # 10-01 → after National Day


def test_art203_the_last_day_ends_at_24_00() -> None:
    """第二百零三条第二款：期间的最后一日的截止时间为二十四时。"""
    assert end_of_day(D(2024, 3, 31)) == dt.datetime(2024, 4, 1, tzinfo=CST)
    assert due_at(D(2024, 1, 31), days=60) == dt.datetime(2024, 4, 2, tzinfo=CST)
    assert met_by(dt.datetime(2024, 3, 31, 23, 59, 59, tzinfo=CST), D(2024, 3, 31))
    assert not met_by(dt.datetime(2024, 4, 1, 0, 0, 1, tzinfo=CST), D(2024, 3, 31))


def test_a_date_without_a_time_is_the_whole_day() -> None:
    """A closing recorded as a date alone: on the last day is in time, the day after is late
    (last day 2024-03-31, closed 2024-04-01 → overdue)."""
    assert met_by(D(2024, 3, 31), D(2024, 3, 31))
    assert not met_by(D(2024, 4, 1), D(2024, 3, 31))


def test_a_year_the_calendar_does_not_know_is_reported_not_guessed() -> None:
    """第二百零三条 needs the State Council's notice for the year; without it, say so."""
    beyond = D(KNOWN_YEARS.stop, 3, 2)
    with pytest.raises(DeadlineUnknown) as caught:
        last_day(beyond - dt.timedelta(days=1), days=1)
    assert caught.value.day == beyond
    assert str(KNOWN_YEARS.stop) in str(caught.value)
    with pytest.raises(DeadlineUnknown):
        is_rest_day(D(KNOWN_YEARS.start - 1, 6, 1))
    # The nominal arithmetic (Art.201/202) needs no calendar.
    assert add_days(beyond, 1) == beyond + dt.timedelta(days=1)
