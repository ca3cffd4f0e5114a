"""Deadlines from the statutes' day counts: calendar days, start day not counted."""

from __future__ import annotations

import datetime as dt
from types import MappingProxyType
from typing import Any

from onedoor.model import CST, Centre, MatterRecord, MatterStatus
from schema.deadlines import STATUTES, DayCount, calendar_deadline, overdue_of

REGISTERED = dt.datetime(2024, 1, 31, 16, 45, tzinfo=CST)


def rec(centre: Centre, native: str, *, due_at: dt.datetime | None = None, **extra: Any) -> MatterRecord:
    return MatterRecord(centre, "X1", "X1", "邻里", "t", MatterStatus.IN_PROGRESS, native, "632301001001",
                        REGISTERED, due_at=due_at, extra=MappingProxyType(extra))


def at(day: str, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), CST)


def test_petition_acceptance_is_15_calendar_days_after_registration() -> None:
    assert calendar_deadline(REGISTERED, 15) == dt.date(2024, 2, 15)  # across a month end, weekends count
    r = rec(Centre.PETITIONS, "登记")
    assert overdue_of(r, at("2024-02-15", 23)) is None  # the last day is still in time
    late = overdue_of(r, at("2024-02-16", 0))
    assert late is not None and late.days_overdue == 1
    assert late.deadline.statute == "信访工作条例 第二十二条"
    assert late.deadline.count is DayCount.CALENDAR_DAYS
    assert late.due == dt.datetime(2024, 2, 16, tzinfo=CST)
    assert overdue_of(rec(Centre.PETITIONS, "不予受理"), at("2024-06-01")) is None


def test_petition_handling_is_60_days_from_acceptance_extendable_by_30() -> None:
    r = rec(Centre.PETITIONS, "办理中", accepted_on=dt.date(2024, 2, 10))
    assert overdue_of(r, at("2024-04-10")) is None  # 2024 is a leap year: Feb 10 + 60 = Apr 10
    late = overdue_of(r, at("2024-04-20"))
    assert late is not None and late.days_overdue == 10
    assert late.deadline.kind == "PETITION_HANDLING" and late.deadline.extension_days == 30
    assert STATUTES["PETITION_HANDLING"].statute == "信访工作条例 第三十四条"


def test_legal_aid_decision_is_7_days() -> None:
    r = rec(Centre.LEGAL_SERVICES, "审查中", service_type="LEGAL_AID")
    assert overdue_of(r, at("2024-02-07")) is None
    late = overdue_of(r, at("2024-02-09"))
    assert late is not None and late.days_overdue == 2
    assert late.deadline.statute == "中华人民共和国法律援助法 第四十三条"
    assert overdue_of(rec(Centre.LEGAL_SERVICES, "审查中", service_type="CONSULTATION"), at("2024-09-01")) is None
    assert overdue_of(rec(Centre.LEGAL_SERVICES, "已批准", service_type="LEGAL_AID"), at("2024-09-01")) is None


def test_mediation_about_a_month_and_grid_dispatch_in_elapsed_time() -> None:
    late = overdue_of(rec(Centre.MEDIATION, "先行调解"), at("2024-03-03"))
    assert late is not None and late.days_overdue == 2  # Jan 31 + 30 days = Mar 1
    due = REGISTERED + dt.timedelta(days=3)
    grid = rec(Centre.GOVERNANCE, "核实", due_at=due)
    assert overdue_of(grid, due) is None
    late = overdue_of(grid, due + dt.timedelta(hours=1))
    assert late is not None and late.days_overdue == 1 and late.deadline.count is DayCount.ELAPSED_TIME
    assert overdue_of(rec(Centre.GOVERNANCE, "派遣", due_at=due), due + dt.timedelta(days=9)) is None
