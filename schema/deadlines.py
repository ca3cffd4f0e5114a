"""Statutory deadlines, counted as each statute counts them. Pure: no I/O.

How days are counted (and why):

- Every statute here says 日 (days), not 工作日 (working days), so they are
  **calendar days**. 信访工作条例 (2022) Art.22 "自收到信访事项之日起15日内",
  Art.34 "自受理之日起60日内办结……延长期限不得超过30日"; 法律援助法 (2021)
  Art.43 "自收到法律援助申请之日起七日内……作出决定".
- The day the clock starts is not counted (民法典 第二百零一条: 开始的当日不计入),
  so a deadline is "start date + N", met until that day ends (CST).
- Not modelled: 民法典 第二百零三条 (a period ending on a statutory holiday runs
  to the next working day) — the gateway holds no official holiday calendar,
  so an item may be flagged a day or two early over a holiday; it never hides one.
- Mediation has no statutory limit; 人民调解工作若干规定 (司法部, 2002)
  第三十四条 says a dispute is "一般在一个月内调结" — counted as 30 calendar days,
  as the mediation centre's own ``deadline`` is.
- Grid events: the dispatch limit is the platform's rule (3 days for disputes,
  7 for others), elapsed time from the report; the record's ``dueAt`` is used.

>>> received = dt.datetime(2024, 3, 1, 9, 30, tzinfo=CST)
>>> calendar_deadline(received, 15)
datetime.date(2024, 3, 16)
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from enum import Enum

from onedoor.model import CST, Centre, MatterRecord

__all__ = ["STATUTES", "DayCount", "Deadline", "Overdue", "calendar_deadline", "overdue_of"]


class DayCount(Enum):
    CALENDAR_DAYS = "CALENDAR_DAYS"  # 自然日
    ELAPSED_TIME = "ELAPSED_TIME"  # 按时计（平台规则）


@dataclass(frozen=True, slots=True)
class Deadline:
    kind: str
    statute: str  # the citation, in Chinese as it appears in the law
    statute_en: str
    days: int
    count: DayCount
    extension_days: int = 0  # a once-only extension the statute allows, when approved


STATUTES: dict[str, Deadline] = {d.kind: d for d in (
    Deadline("PETITION_ACCEPTANCE", "信访工作条例 第二十二条",
             "Regulations on Letters and Visits Work, Art.22 (decide within 15 days)", 15, DayCount.CALENDAR_DAYS),
    Deadline("PETITION_HANDLING", "信访工作条例 第三十四条",
             "Regulations on Letters and Visits Work, Art.34 (handle within 60 days, +30 once)", 60,
             DayCount.CALENDAR_DAYS, 30),
    Deadline("LEGAL_AID_DECISION", "中华人民共和国法律援助法 第四十三条",
             "Legal Aid Law, Art.43 (decide within 7 days)", 7, DayCount.CALENDAR_DAYS),
    Deadline("MEDIATION", "人民调解工作若干规定 第三十四条（一般在一个月内调结）",
             "Provisions on People's Mediation Work, Art.34 (usually within one month)", 30, DayCount.CALENDAR_DAYS),
    Deadline("GRID_DISPATCH", "网格化服务管理平台派遣时限（平台规则：纠纷类3日，其他7日）",
             "Grid platform dispatch limit (platform rule: 3 days for disputes, 7 otherwise)", 0,
             DayCount.ELAPSED_TIME),
)}


@dataclass(frozen=True, slots=True)
class Overdue:
    record: MatterRecord
    deadline: Deadline
    due: dt.datetime  # the instant the deadline passed
    days_overdue: int


def calendar_deadline(start: dt.datetime | dt.date, days: int) -> dt.date:
    """The last day of an N-day period starting on ``start`` (the start day not counted)."""
    day = start.astimezone(CST).date() if isinstance(start, dt.datetime) else start
    return day + dt.timedelta(days=days)


def _calendar(record: MatterRecord, kind: str, start: dt.datetime | dt.date,
              as_of: dt.datetime) -> Overdue | None:
    deadline = STATUTES[kind]
    last = calendar_deadline(start, deadline.days)
    late = (as_of.astimezone(CST).date() - last).days
    if late <= 0:
        return None
    due = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), CST)
    return Overdue(record, deadline, due, late)


def overdue_of(r: MatterRecord, as_of: dt.datetime) -> Overdue | None:
    """The deadline an open matter has missed at ``as_of``, if any (closed matters: none)."""
    if r.closed_at is not None and r.closed_at <= as_of:
        return None
    native = r.centre_status
    if r.centre is Centre.PETITIONS:
        accepted_on = r.extra.get("accepted_on")
        if accepted_on is None:
            return None if native == "不予受理" else _calendar(r, "PETITION_ACCEPTANCE", r.received_at, as_of)
        return _calendar(r, "PETITION_HANDLING", accepted_on, as_of)
    if r.centre is Centre.LEGAL_SERVICES:
        undecided = native in ("已提交", "审查中")
        if r.extra.get("service_type") == "LEGAL_AID" and undecided:
            return _calendar(r, "LEGAL_AID_DECISION", r.received_at, as_of)
        return None
    if r.centre is Centre.MEDIATION:
        return _calendar(r, "MEDIATION", r.received_at, as_of)
    if r.centre is Centre.GOVERNANCE and native in ("上报", "核实", "立案") and r.due_at is not None:
        if as_of <= r.due_at:
            return None
        late = math.ceil((as_of - r.due_at) / dt.timedelta(days=1))
        return Overdue(r, STATUTES["GRID_DISPATCH"], r.due_at, late)
    return None
