"""Each matter's deadlines: which period, from which event, met by which event. Pure: no I/O.

Periods are counted by :mod:`onedoor.periods` (民法典 Art.200–204). Every
statute below says 日 (days), not 工作日, so periods are calendar days with the
last day moved off a rest day (Art.203). Each deadline runs from its own event
and is met by its own event — never by closing unless closing is the act:

=====================  ===========================================  ==================  ======================
kind                   statute                                      runs from           met by
=====================  ===========================================  ==================  ======================
PETITION_ACCEPTANCE    信访工作条例 第二十二条 (15 days)            registration        acceptance decision
PETITION_HANDLING      信访工作条例 第三十四条 (60 days, +≤30)      acceptance          closing (办结)
PETITION_REVIEW        信访工作条例 第三十五条 (30 days)            review request      review opinion
PETITION_SECOND_REVIEW 信访工作条例 第三十六条 (30 days)            2nd review request  2nd review opinion
LEGAL_AID_DECISION     法律援助法 第四十三条 (7 days)               application         grant or refusal
LEGAL_AID_ASSIGNMENT   法律援助法 第四十三条 (3 days)               grant               lawyer assigned
MEDIATION              人民调解工作若干规定 第三十四条 (one month)  registration        closing
LITIGATION             the court's own 审限 (``deadlineAt``)        filing              closing
GRID_DISPATCH          the grid platform's dispatch limit           report              dispatch (or 注销)
=====================  ===========================================  ==================  ======================

A matter is overdue when any of its deadlines was missed: the meeting event
came after the deadline, or has not come and the deadline has passed. That
one rule answers the ``overdue`` field, the ``overdue`` filter and the
``overdue`` list alike (docs/deadlines.md).

The connectors put the events this module reads into ``MatterRecord.extra``:
``accepted_on``/``closed_on`` (petitions, dates), ``extension_days``
(petitions, an approved Art.34 extension), ``review_requested_on``/``review_decided_on``
and their ``second_`` forms (petitions, Art.35/36), ``decided_at``/``granted``/
``assigned_at`` (legal aid), ``dispatched_at``/``dispatched`` (grid events).

>>> import datetime as dt
>>> from onedoor.model import CST, Centre, MatterRecord, MatterStatus
>>> r = MatterRecord(Centre.MEDIATION, "T1", "T1", "邻里", "t", MatterStatus.IN_PROGRESS, "先行调解",
...                  "632301", dt.datetime(2024, 1, 31, 9, tzinfo=CST))
>>> current(r).due  # one month → 02-29 (Art.202), a Thursday
datetime.datetime(2024, 3, 1, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='Asia/Shanghai'))
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from functools import lru_cache

from onedoor.model import CST, Centre, MatterRecord, MatterStatus
from onedoor.periods import (
    DeadlineUnknown,
    add_days,
    add_months,
    end_of_day,
    last_day,
    local_day,
    on_calendar_change,
)

__all__ = [
    "RULES", "Deadline", "Rule", "confirmation_window", "current", "deadlines_of", "due_at", "is_overdue", "missed",
    "party_windows",
]


@dataclass(frozen=True, slots=True)
class Rule:
    """A statutory (or the centre's own) time limit."""

    kind: str
    statute: str  # the citation, in Chinese as it appears in the law
    statute_en: str
    days: int = 0
    months: int = 0
    elapsed: bool = False  # the centre's own limit, an instant it sends (court 审限, grid platform)
    extension_days: int = 0  # the most a once-only approved extension may add


RULES: dict[str, Rule] = {r.kind: r for r in (
    Rule("PETITION_ACCEPTANCE", "信访工作条例 第二十二条",
         "Regulations on Letters and Visits Work, Art.22 (decide to accept, forward or assign within 15 days)",
         days=15),
    Rule("PETITION_HANDLING", "信访工作条例 第三十四条",
         "Regulations on Letters and Visits Work, Art.34 (handle within 60 days of acceptance, +≤30 once approved)",
         days=60, extension_days=30),
    Rule("PETITION_REVIEW", "信访工作条例 第三十五条",
         "Regulations on Letters and Visits Work, Art.35 (a review (复查) is answered within 30 days of the request)",
         days=30),
    Rule("PETITION_SECOND_REVIEW", "信访工作条例 第三十六条",
         "Regulations on Letters and Visits Work, Art.36 (a second review (复核) is answered within 30 days)",
         days=30),
    Rule("LEGAL_AID_DECISION", "中华人民共和国法律援助法 第四十三条",
         "Legal Aid Law, Art.43 (decide within 7 days of the application)", days=7),
    Rule("LEGAL_AID_ASSIGNMENT", "中华人民共和国法律援助法 第四十三条",
         "Legal Aid Law, Art.43 (assign a lawyer within 3 days of the grant)", days=3),
    Rule("MEDIATION", "人民调解工作若干规定 第三十四条（一般在一个月内调结）",
         "Provisions on People's Mediation Work, Art.34 (usually within one month)", months=1),
    Rule("LITIGATION", "人民法院审理期限（法院自报审限届满时间）",
         "the court's trial time limit, as the court reports it", elapsed=True),
    Rule("GRID_DISPATCH", "网格化服务管理平台派遣时限（平台规则：纠纷类3日，其他7日）",
         "Grid platform dispatch limit (platform rule: 3 days for disputes, 7 otherwise)", elapsed=True),
    # The parties' windows, not a centre's duty: shown on the matter, never make it overdue.
    Rule("PETITION_REVIEW_REQUEST", "信访工作条例 第三十五条",
         "Regulations on Letters and Visits Work, Art.35 (a review may be requested within 30 days of the "
         "written answer)", days=30),
    Rule("PETITION_SECOND_REVIEW_REQUEST", "信访工作条例 第三十六条",
         "Regulations on Letters and Visits Work, Art.36 (a second review may be requested within 30 days of "
         "the review opinion)", days=30),
    Rule("JUDICIAL_CONFIRMATION_APPLICATION", "中华人民共和国人民调解法 第三十三条",
         "People's Mediation Law Art.33 (the parties apply for judicial confirmation within 30 days of the "
         "agreement taking effect)", days=30),
)}

Moment = dt.datetime | dt.date


@dataclass(frozen=True, slots=True)
class Deadline:
    """One deadline of one matter.

    ``due`` is the instant the period runs out (the end of its last day), or
    ``None`` when the holiday calendar does not know the last day's year
    (:class:`~onedoor.periods.DeadlineUnknown`); ``nominal_due`` ignores rest
    days and so is never later than ``due``. ``done`` is the act that meets
    the deadline — a date alone when the centre records only a date, which
    then means that whole day.
    """

    rule: Rule
    start: Moment
    due: dt.datetime | None
    nominal_due: dt.datetime
    done: Moment | None = None
    extension_days: int = 0  # an approved extension, already in ``due``

    def done_by(self, now: dt.datetime) -> Moment | None:
        """The meeting act if it had happened by ``now``."""
        if self.done is None:
            return None
        if isinstance(self.done, dt.datetime):
            return self.done if self.done <= now else None
        return self.done if self.done <= local_day(now) else None

    def missed(self, now: dt.datetime) -> bool | None:
        """Whether the deadline was missed as of ``now``; ``None`` = cannot tell (the
        calendar does not know the year, and the answer depends on it)."""
        done = self.done_by(now)
        if not _after(done if done is not None else now, self.nominal_due):
            return False
        if self.due is None:
            return None
        return _after(done if done is not None else now, self.due)

    def days_late(self, now: dt.datetime) -> int:
        """Days past ``due`` at the meeting act, or at ``now`` while it has not happened."""
        if self.due is None:
            return 0
        ref = self.done_by(now) or now
        if self.rule.elapsed:
            at = ref if isinstance(ref, dt.datetime) else dt.datetime.combine(ref, dt.time(0), CST)
            return max(0, math.ceil((at - self.due) / dt.timedelta(days=1)))
        return max(0, (local_day(ref) - local_day(self.due)).days + 1)


def _after(at: Moment, due: dt.datetime) -> bool:
    """Whether ``at`` is past ``due`` — a date alone is the whole day (late only if the
    day starts at or after ``due``, i.e. it is later than the last day)."""
    if isinstance(at, dt.datetime):
        return at > due
    return dt.datetime.combine(at, dt.time(0), CST) >= due


def _period(kind: str, start: Moment, done: Moment | None, extension: int = 0) -> Deadline:
    rule = RULES[kind]
    due, nominal = _ends(local_day(start), rule.days + extension, rule.months)
    return Deadline(rule, start, due, nominal, done, extension)


@lru_cache(maxsize=65_536)
def _ends(start: dt.date, days: int, months: int) -> tuple[dt.datetime | None, dt.datetime]:
    """(end of the last day, or ``None`` when the calendar cannot tell; end of the nominal last day).
    Cached: a connector maps thousands of records a second, from a few hundred distinct days."""
    nominal = end_of_day(add_days(add_months(start, months) if months else start, days))
    try:
        return end_of_day(last_day(start, days=days, months=months)), nominal
    except DeadlineUnknown:
        return None, nominal


on_calendar_change(_ends.cache_clear)  # a holiday notice added at run time


def _instant(kind: str, start: Moment, due: dt.datetime, done: Moment | None) -> Deadline:
    return Deadline(RULES[kind], start, due, due, done)


def _first(*moments: Moment | None) -> Moment | None:
    return next((m for m in moments if m is not None), None)


def deadlines_of(r: MatterRecord) -> tuple[Deadline, ...]:
    """The deadlines a matter runs under, in the order they fall."""
    x = r.extra
    if r.centre is Centre.PETITIONS:
        accepted = x.get("accepted_on")
        closed = _first(x.get("closed_on"), r.closed_at)
        out = [_period("PETITION_ACCEPTANCE", r.received_at, _first(accepted, closed))]
        if accepted is not None and r.centre_status != "不予受理":
            extension = min(int(x.get("extension_days") or 0), RULES["PETITION_HANDLING"].extension_days)
            out.append(_period("PETITION_HANDLING", accepted, closed, extension))
        for kind, asked, answered in (("PETITION_REVIEW", "review_requested_on", "review_decided_on"),
                                      ("PETITION_SECOND_REVIEW", "second_review_requested_on",
                                       "second_review_decided_on")):
            if x.get(asked) is not None:
                out.append(_period(kind, x[asked], x.get(answered)))
        return tuple(out)
    if r.centre is Centre.LEGAL_SERVICES:
        if x.get("service_type") != "LEGAL_AID":
            return ()
        decided = _first(x.get("decided_at"), r.closed_at)
        out = [_period("LEGAL_AID_DECISION", r.received_at, decided)]
        granted_at = x.get("decided_at")
        if x.get("granted") and granted_at is not None:
            assigned = _first(x.get("assigned_at"), r.closed_at)
            out.append(_period("LEGAL_AID_ASSIGNMENT", granted_at, assigned))
        return tuple(out)
    if r.centre is Centre.MEDIATION:
        return (_period("MEDIATION", r.received_at, r.closed_at),)
    if r.centre is Centre.LITIGATION:
        return () if r.due_at is None else (_instant("LITIGATION", r.received_at, r.due_at, r.closed_at),)
    if r.centre is Centre.GOVERNANCE:
        if r.due_at is None:
            return ()
        cancelled = r.closed_at if r.status is MatterStatus.REJECTED else None
        # Dispatched at a time the platform did not record: no evidence of lateness, so not flagged.
        unrecorded = r.due_at if x.get("dispatched") else None
        done = _first(x.get("dispatched_at"), cancelled, unrecorded)
        return (_instant("GRID_DISPATCH", r.received_at, r.due_at, done),)
    return ()


def confirmation_window(r: MatterRecord, applied: Moment | None = None) -> Deadline | None:
    """A mediation agreement's 30-day window to apply for judicial confirmation (人民调解法
    Art.33), from ``extra["agreement_effective_on"]``; ``applied`` = when the linked 民特 case
    was filed. Not among :func:`deadlines_of`: the window binds the parties, not the centre."""
    effective = r.extra.get("agreement_effective_on") if r.centre is Centre.MEDIATION else None
    return None if effective is None else _period("JUDICIAL_CONFIRMATION_APPLICATION", effective, applied)


def party_windows(r: MatterRecord) -> tuple[Deadline, ...]:
    """The periods that bind the parties, not the centre (never overdue): the 30 days to ask
    for a petition's review (from the opinion) and second review (from the review opinion),
    Art.35/36, met by the request; a mediation agreement's judicial-confirmation window."""
    x = r.extra
    out = []
    if r.centre is Centre.PETITIONS:
        opinion = x.get("closed_on") if r.centre_status != "不予受理" and x.get("accepted_on") else None
        for kind, since, asked in (("PETITION_REVIEW_REQUEST", opinion, "review_requested_on"),
                                   ("PETITION_SECOND_REVIEW_REQUEST", x.get("review_decided_on"),
                                    "second_review_requested_on")):
            if since is not None:
                out.append(_period(kind, since, x.get(asked)))
    window = confirmation_window(r)
    return (*out, *((window,) if window else ()))


def missed(r: MatterRecord, now: dt.datetime) -> Deadline | None:
    """The first deadline the matter had missed by ``now``, if any."""
    return next((d for d in deadlines_of(r) if d.missed(now)), None)


def is_overdue(r: MatterRecord, now: dt.datetime) -> bool:
    """Whether any deadline of the matter was missed by ``now`` (met late counts)."""
    return missed(r, now) is not None


def current(r: MatterRecord, found: tuple[Deadline, ...] | None = None) -> Deadline | None:
    """The deadline that governs the matter now: the first not yet met, else the last
    (``found``: the matter's :func:`deadlines_of`, when the caller has them already)."""
    found = deadlines_of(r) if found is None else found
    return next((d for d in found if d.done is None), found[-1] if found else None)


def due_at(r: MatterRecord) -> dt.datetime | None:
    """``dueAt``: when the governing deadline runs out (``None``: none, or the calendar cannot tell)."""
    d = current(r)
    return None if d is None else d.due
