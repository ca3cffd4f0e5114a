"""Deadlines: each runs from its own event, is met by its own event, and is counted by onedoor.periods.

The ``overdue`` field (onedoor.deadlines.is_overdue) and the ``overdue`` list (schema.deadlines.overdue_of)
ask the same rule; these cases pin both.
"""

from __future__ import annotations

import datetime as dt
from types import MappingProxyType
from typing import Any

from onedoor.deadlines import current, deadlines_of, due_at, is_overdue
from onedoor.model import CST, Centre, MatterRecord, MatterStatus
from onedoor.periods import KNOWN_YEARS
from schema.deadlines import STATUTES, DayCount, calendar_deadline, day_count, overdue_of

REGISTERED = dt.datetime(2024, 1, 31, 16, 45, tzinfo=CST)


def rec(centre: Centre, native: str, *, due: dt.datetime | None = None, closed: dt.datetime | None = None,
        status: MatterStatus = MatterStatus.IN_PROGRESS, received: dt.datetime = REGISTERED,
        **extra: Any) -> MatterRecord:
    return MatterRecord(centre, "X1", "X1", "邻里", "t", status, native, "632301001001",
                        received, due_at=due, closed_at=closed, extra=MappingProxyType(extra))


def at(day: str, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), CST)


def both(r: MatterRecord, now: dt.datetime) -> bool:
    """The field and the list agree on an open matter."""
    listed = overdue_of(r, now) is not None
    assert listed == is_overdue(r, now)
    return listed


def test_petition_acceptance_is_15_days_and_a_last_day_in_the_spring_festival_moves_past_it() -> None:
    # 01-31 + 15 = 02-15, inside the 2024 Spring Festival rest (02-10…02-17); 02-18 is a 调休 working day.
    assert calendar_deadline(REGISTERED, 15) == dt.date(2024, 2, 18)
    r = rec(Centre.PETITIONS, "登记")
    assert not both(r, at("2024-02-18", 23))
    late = overdue_of(r, at("2024-02-19", 9))
    assert late is not None and late.days_overdue == 1
    assert late.deadline.rule.statute == "信访工作条例 第二十二条"
    assert day_count(late.deadline.rule) is DayCount.CALENDAR_DAYS
    assert late.due == dt.datetime(2024, 2, 19, tzinfo=CST)
    assert due_at(r) == late.due


def test_a_late_acceptance_shows_on_the_field_and_in_the_list() -> None:
    r = rec(Centre.PETITIONS, "办理中", accepted_on=dt.date(2024, 2, 20))
    assert both(r, at("2024-03-01"))
    late = overdue_of(r, at("2024-03-01"))
    assert late is not None and late.deadline.rule.kind == "PETITION_ACCEPTANCE" and late.days_overdue == 2
    assert not is_overdue(rec(Centre.PETITIONS, "办理中", accepted_on=dt.date(2024, 2, 18)), at("2024-03-01"))


def test_petition_handling_is_60_days_from_acceptance_and_a_date_alone_is_the_whole_day() -> None:
    # accepted 01-31: + 60 days = 03-31, a Sunday → last day 04-01 (Art.203).
    kw: dict[str, Any] = {"accepted_on": dt.date(2024, 1, 31)}
    assert current(rec(Centre.PETITIONS, "办理中", **kw)).due == dt.datetime(2024, 4, 2, tzinfo=CST)  # type: ignore[union-attr]
    closed_last_day = rec(Centre.PETITIONS, "办结", status=MatterStatus.CLOSED, closed=at("2024-04-01", 0),
                          closed_on=dt.date(2024, 4, 1), **kw)
    assert not is_overdue(closed_last_day, at("2024-06-01"))
    closed_next_day = rec(Centre.PETITIONS, "办结", status=MatterStatus.CLOSED, closed=at("2024-04-02", 0),
                          closed_on=dt.date(2024, 4, 2), **kw)
    assert is_overdue(closed_next_day, at("2024-06-01"))  # read as 00:00 this was on time before issue 12
    assert overdue_of(closed_next_day, at("2024-06-01")) is None  # closed: not on the work list


def test_an_approved_extension_moves_the_handling_deadline_in_the_field_and_the_list() -> None:
    r = rec(Centre.PETITIONS, "办理中", accepted_on=dt.date(2024, 2, 10))
    assert not both(r, at("2024-04-10"))  # 02-10 + 60 = 04-10 (2024 is a leap year)
    assert both(r, at("2024-04-20"))
    extended = rec(Centre.PETITIONS, "办理中", accepted_on=dt.date(2024, 2, 10), extension_days=30)
    assert not both(extended, at("2024-04-20"))
    assert due_at(extended) == dt.datetime(2024, 5, 11, tzinfo=CST)  # 05-10 is a Friday
    assert STATUTES["PETITION_HANDLING"].statute == "信访工作条例 第三十四条"
    capped = rec(Centre.PETITIONS, "办理中", accepted_on=dt.date(2024, 2, 10), extension_days=45)
    assert due_at(capped) == due_at(extended)  # Art.34: an extension never exceeds 30 days
    assert overdue_of(rec(Centre.PETITIONS, "不予受理", accepted_on=dt.date(2024, 2, 1)), at("2024-06-01")) is None


def test_legal_aid_decision_is_met_by_the_decision_not_by_closing() -> None:
    decided = at("2024-02-05")
    r = rec(Centre.LEGAL_SERVICES, "已结案", status=MatterStatus.CLOSED, closed=at("2024-05-01"),
            service_type="LEGAL_AID", decided_at=decided, granted=True, assigned_at=at("2024-02-07"))
    assert not is_overdue(r, at("2024-06-01"))
    undecided = rec(Centre.LEGAL_SERVICES, "审查中", service_type="LEGAL_AID")
    assert not both(undecided, at("2024-02-07"))  # 01-31 + 7 = 02-07
    late = overdue_of(undecided, at("2024-02-09"))
    assert late is not None and late.days_overdue == 2
    assert late.deadline.rule.statute == "中华人民共和国法律援助法 第四十三条"
    consultation = rec(Centre.LEGAL_SERVICES, "审查中", service_type="CONSULTATION")
    assert overdue_of(consultation, at("2024-09-01")) is None


def test_a_grant_without_a_lawyer_after_3_days_is_overdue() -> None:
    r = rec(Centre.LEGAL_SERVICES, "已批准", service_type="LEGAL_AID", decided_at=at("2024-02-05"), granted=True)
    assert not both(r, at("2024-02-08", 23))  # 02-05 + 3 = 02-08 (Thu)
    late = overdue_of(r, at("2024-02-09"))
    assert late is not None and late.deadline.rule.kind == "LEGAL_AID_ASSIGNMENT"
    refused = rec(Centre.LEGAL_SERVICES, "不予援助", status=MatterStatus.REJECTED, closed=at("2024-02-05"),
                  service_type="LEGAL_AID", decided_at=at("2024-02-05"), granted=False)
    assert [d.rule.kind for d in deadlines_of(refused)] == ["LEGAL_AID_DECISION"]


def test_mediation_is_one_month_counted_as_a_month() -> None:
    r = rec(Centre.MEDIATION, "先行调解")
    assert not both(r, at("2024-02-29", 23))  # 01-31 + one month = 02-29 (Art.202)
    late = overdue_of(r, at("2024-03-03"))
    assert late is not None and late.days_overdue == 3
    assert day_count(late.deadline.rule) is DayCount.CALENDAR_MONTHS
    march = rec(Centre.MEDIATION, "先行调解", received=at("2024-03-15"))
    assert due_at(march) == dt.datetime(2024, 4, 16, tzinfo=CST)


def test_grid_dispatch_is_met_by_dispatch_not_by_closing() -> None:
    due = REGISTERED + dt.timedelta(days=3)
    open_event = rec(Centre.GOVERNANCE, "核实", due=due)
    assert not both(open_event, due)
    late = overdue_of(open_event, due + dt.timedelta(hours=1))
    assert late is not None and late.days_overdue == 1 and day_count(late.deadline.rule) is DayCount.ELAPSED_TIME
    dispatched = rec(Centre.GOVERNANCE, "处置", due=due, dispatched_at=due - dt.timedelta(hours=2))
    assert not both(dispatched, due + dt.timedelta(days=9))
    closed = rec(Centre.GOVERNANCE, "核查结案", due=due, status=MatterStatus.CLOSED,
                 closed=due + dt.timedelta(days=9), dispatched_at=due - dt.timedelta(hours=2))
    assert not is_overdue(closed, due + dt.timedelta(days=20))
    cancelled = rec(Centre.GOVERNANCE, "注销", due=due, status=MatterStatus.REJECTED,
                    closed=REGISTERED + dt.timedelta(hours=5))
    assert not is_overdue(cancelled, due + dt.timedelta(days=20))


def test_court_time_limit_is_the_courts_own() -> None:
    due = at("2024-07-30")
    r = rec(Centre.LITIGATION, "审理中", due=due)
    assert not both(r, due)
    assert both(r, due + dt.timedelta(days=1))


def test_a_deadline_in_a_year_without_a_holiday_notice_is_unknown_not_guessed() -> None:
    year = KNOWN_YEARS.stop  # the first year chinese-calendar does not know
    r = rec(Centre.PETITIONS, "登记", received=dt.datetime(year - 1, 12, 25, 10, tzinfo=CST))
    assert due_at(r) is None
    assert not both(r, dt.datetime(year - 1, 12, 31, tzinfo=CST))  # before the nominal last day: not overdue


def test_judicial_confirmation_window_is_30_days_from_the_agreement_and_binds_the_parties_only() -> None:
    """人民调解法 Art.33: apply within 30 days of the agreement taking effect (here 2024-03-01 → 03-31, a
    Sunday → 04-01). The window is shown on the case; it never makes the mediation overdue."""
    from onedoor.deadlines import confirmation_window

    agreed = rec(Centre.MEDIATION, "案结事了", status=MatterStatus.CLOSED, closed=at("2024-02-20"),
                 agreement_effective_on=dt.date(2024, 3, 1))
    window = confirmation_window(agreed)
    assert window is not None and window.rule.statute == "中华人民共和国人民调解法 第三十三条"
    assert window.due == dt.datetime(2024, 4, 2, tzinfo=CST)
    assert confirmation_window(agreed, at("2024-04-01", 16)).missed(at("2024-06-01")) is False  # type: ignore[union-attr]
    assert confirmation_window(agreed, at("2024-04-02", 9)).missed(at("2024-06-01")) is True  # type: ignore[union-attr]
    assert "JUDICIAL_CONFIRMATION_APPLICATION" not in {d.rule.kind for d in deadlines_of(agreed)}
    assert confirmation_window(rec(Centre.MEDIATION, "先行调解")) is None


def test_petition_review_and_second_review_are_answered_within_30_days() -> None:
    """信访工作条例 Art.35 (复查) and Art.36 (复核): asked within 30 days of the opinion (the petitioner's
    window, never overdue), answered within 30 days of the request (the office's deadline)."""
    from onedoor.deadlines import party_windows

    handled: dict[str, Any] = {"accepted_on": dt.date(2024, 2, 1), "closed_on": dt.date(2024, 3, 1)}
    asked = rec(Centre.PETITIONS, "复查中", review_requested_on=dt.date(2024, 3, 20), **handled)
    assert [d.rule.kind for d in deadlines_of(asked)][-1] == "PETITION_REVIEW"
    assert due_at(asked) == dt.datetime(2024, 4, 20, tzinfo=CST)  # 03-20 + 30 = 04-19 (Fri), ends at 24:00
    assert not both(asked, at("2024-04-19", 23))
    late = overdue_of(asked, at("2024-04-22"))
    assert late is not None and late.deadline.rule.statute == "信访工作条例 第三十五条"
    answered = rec(Centre.PETITIONS, "复核中", review_requested_on=dt.date(2024, 3, 20),
                   review_decided_on=dt.date(2024, 4, 10), second_review_requested_on=dt.date(2024, 4, 15),
                   **handled)
    assert not both(answered, at("2024-05-10"))  # 04-15 + 30 = 05-15
    assert current(answered).rule.kind == "PETITION_SECOND_REVIEW"  # type: ignore[union-attr]
    windows = {d.rule.kind: d for d in party_windows(answered)}
    # 03-01 + 30 = 03-31, a Sunday → 04-01 (Art.203)
    assert windows["PETITION_REVIEW_REQUEST"].due == dt.datetime(2024, 4, 2, tzinfo=CST)
    assert windows["PETITION_REVIEW_REQUEST"].missed(at("2024-05-10")) is False  # asked on 03-20
    assert windows["PETITION_SECOND_REVIEW_REQUEST"].due == dt.datetime(2024, 5, 11, tzinfo=CST)
