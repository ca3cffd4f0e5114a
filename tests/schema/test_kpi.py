"""KPI definitions on hand-built records with answers worked out by hand."""

from __future__ import annotations

import dataclasses
import datetime as dt
from types import MappingProxyType
from typing import Any

from onedoor.model import CST, Centre, EventRecord, LinkRecord, LinkRelation, MatterRecord, MatterStatus, PartyRecord
from schema.kpi import Cells, Figures, add_records, child_region, rollup
from schema.statistics import figures_of

T0 = dt.datetime(2024, 3, 5, 9, 30, tzinfo=CST)


def rec(centre: Centre, n: int, native: str, *, closed: int | None = None, due: int | None = None,
        category: str = "邻里", region: str = "632301001001", events: tuple[str, ...] = (),
        links: tuple[LinkRelation, ...] = (), petitioner: str | None = None, day: int = 0,
        **extra: Any) -> MatterRecord:
    at = T0 + dt.timedelta(days=day)
    return MatterRecord(
        centre=centre, native_id=f"{centre.value}{n}", reference=f"{centre.value}{n}", category=category,
        title="t", status=MatterStatus.IN_PROGRESS, centre_status=native, region_code=region, received_at=at,
        parties=(PartyRecord("PETITIONER", "张三", id_number=petitioner),) if petitioner else (),
        due_at=None if due is None else at + dt.timedelta(days=due),
        closed_at=None if closed is None else at + dt.timedelta(days=closed),
        events=tuple(EventRecord(at, e) for e in events),
        links=tuple(LinkRecord(r, Centre.PETITIONS, "XF1") for r in links), extra=MappingProxyType(extra))


def totals(records: list[MatterRecord], prefix: str = "6323") -> Figures:
    cells: Cells = {}
    add_records(cells, records, prefix)
    [(_, total)] = rollup(cells, [])
    return total


def test_mediation_rates() -> None:
    # 4 mediations: 2 agreements (one late), 1 terminated on time, 1 open and escalated to a petition.
    records = [
        rec(Centre.MEDIATION, 1, "案结事了", closed=10, due=30, agreement_reached=True),
        rec(Centre.MEDIATION, 2, "案结事了", closed=40, due=30, agreement_reached=True),
        rec(Centre.MEDIATION, 3, "终止", closed=20, due=30, agreement_reached=False),
        rec(Centre.MEDIATION, 4, "先行调解", due=30, links=(LinkRelation.ESCALATED_TO,)),
    ]
    f = figures_of(totals(records))
    assert (f.registered, f.accepted, f.closed, f.closed_on_time) == (4, 4, 3, 2)
    assert (f.mediations, f.agreements, f.escalated) == (4, 2, 1)
    assert f.acceptance_rate() == 1.0
    assert f.closure_rate() == 0.75
    assert f.on_time_closure_rate() == round(2 / 3, 4)
    assert f.mediation_success_rate() == 0.5
    assert f.transfer_rate() == 0.0


def test_petitions_forwarded_assigned_apart_and_repeats() -> None:
    d = dt.date(2024, 3, 5)
    records = [
        rec(Centre.PETITIONS, 1, "转送", events=("登记", "受理", "转送"), accepted_on=d, petitioner="A"),
        rec(Centre.PETITIONS, 2, "交办", events=("登记", "受理", "交办"), accepted_on=d, petitioner="B"),
        rec(Centre.PETITIONS, 3, "交办", events=("登记", "受理", "交办"), accepted_on=d, petitioner="A", day=3),
        rec(Centre.PETITIONS, 4, "不予受理", closed=2, petitioner="A", day=5, category="合同"),
        rec(Centre.PETITIONS, 5, "登记", petitioner="C"),
    ]
    f = figures_of(totals(records))
    assert (f.registered, f.accepted, f.forwarded, f.assigned) == (5, 3, 1, 2)
    assert f.acceptance_rate() == 0.6
    assert f.transfer_rate() == 0.6 and f.forwarding_rate() == 0.2 and f.assignment_rate() == 0.4
    assert f.repeat_petitions == 1  # A again on 邻里; A on 合同 is a new matter
    assert f.closed == 0  # a refused petition is not "closed"
    assert f.closure_rate() == 0.0


def test_petition_on_time_needs_both_deadlines() -> None:
    def closed(n: int, accepted: dt.date, handled_by: int) -> MatterRecord:
        return rec(Centre.PETITIONS, n, "办结", closed=handled_by, accepted_on=accepted,
                   acceptance_due_at=dt.datetime(2024, 3, 21, tzinfo=CST),
                   handling_due_at=dt.datetime(2024, 5, 20, tzinfo=CST))

    records = [closed(1, dt.date(2024, 3, 20), 30), closed(2, dt.date(2024, 3, 21), 30),
               closed(3, dt.date(2024, 3, 10), 90)]
    f = totals(records)
    assert (f.closed, f.closed_on_time) == (3, 1)


def test_legal_aid_on_time_is_the_decision_and_the_assignment() -> None:
    """法律援助法 Art.43: decide within 7 days (03-05 → 03-12), assign within 3 days of the grant."""
    def aid(n: int, decided: int, assigned: int | None) -> MatterRecord:
        return rec(Centre.LEGAL_SERVICES, n, "已结案", closed=100, service_type="LEGAL_AID",
                   decided_at=T0 + dt.timedelta(days=decided), granted=True,
                   assigned_at=None if assigned is None else T0 + dt.timedelta(days=assigned))
    refused = rec(Centre.LEGAL_SERVICES, 4, "不予批准", closed=2, service_type="LEGAL_AID")
    f = totals([aid(1, 3, 4), aid(2, 9, 10), aid(3, 3, 9), refused])
    assert (f.registered, f.accepted, f.closed, f.closed_on_time) == (4, 3, 3, 1)


def test_court_pre_litigation_mediation_counts_as_mediation() -> None:
    records = [
        rec(Centre.LITIGATION, 1, "调解结案", closed=20, due=30, events=("立案", "受理"), case_type="诉前调"),
        rec(Centre.LITIGATION, 2, "已结案", closed=40, due=30, events=("立案", "受理"), case_type="诉前调"),
        rec(Centre.LITIGATION, 3, "调解结案", closed=20, due=180, events=("立案", "受理"), case_type="民初"),
        rec(Centre.LITIGATION, 4, "已立案", due=180, events=("立案",), case_type="民初"),
    ]
    f = totals(records)
    assert (f.accepted, f.closed, f.closed_on_time, f.mediations, f.agreements) == (3, 3, 2, 2, 1)


def test_grouping_by_region_month_centre() -> None:
    records = [
        rec(Centre.MEDIATION, 1, "先行调解", region="632301001001"),
        rec(Centre.MEDIATION, 2, "先行调解", region="632322002001", day=30),
        rec(Centre.GOVERNANCE, 3, "上报", region="632301001002", links=(LinkRelation.ESCALATED_TO,)),
    ]
    cells: Cells = {}
    add_records(cells, records, "6323")
    by_region = {k["region"]: f.registered for k, f in rollup(cells, ["region"])}
    assert by_region == {"632301": 2, "632322": 1}
    by_month = {k["month"]: f.registered for k, f in rollup(cells, ["month"])}
    assert by_month == {"2024-03": 2, "2024-04": 1}
    grouped = rollup(cells, ["centre"])
    assert [(k["centre"], f.escalated, f.accepted) for k, f in grouped] == [("GOVERNANCE", 1, 0),
                                                                            ("MEDIATION", 0, 2)]
    assert child_region("632301001002", "63") == "632300"
    assert child_region("632301001002", "632301") == "632301001000"
    assert child_region("632301001002", "632301001") == "632301001002"


NOW = T0 + dt.timedelta(days=200)


def test_on_time_closure_rate_counts_late_open_matters_in_the_denominator() -> None:
    """按期办结率 = closed by the deadline ÷ matters whose deadline fell due, closed or not (DOMAIN.md)."""
    d = dt.date(2024, 3, 5)
    records = [
        rec(Centre.PETITIONS, 1, "办结", closed=30, accepted_on=d, closed_on=d + dt.timedelta(days=30)),
        rec(Centre.PETITIONS, 2, "办结", closed=70, accepted_on=d, closed_on=d + dt.timedelta(days=70)),  # late
        rec(Centre.PETITIONS, 3, "办理中", accepted_on=d),  # 60 days passed long ago: overdue, open
        rec(Centre.PETITIONS, 4, "办理中", accepted_on=d + dt.timedelta(days=170), day=170),  # not yet due
    ]
    cells: Cells = {}
    add_records(cells, records, "6323", NOW)
    [(_, f)] = rollup(cells, [])
    assert (f.closed, f.closed_on_time, f.overdue_open) == (2, 1, 1)
    assert figures_of(f).on_time_closure_rate() == round(1 / 3, 4)  # not 1/2: the late open one counts
    assert totals(records).overdue_open == 0  # without an as-of moment nothing is "still open late"


def test_one_dispute_one_mediation() -> None:
    """A court 诉前调 case linked to the mediation centre's case is one mediation, counted there."""
    linked = dataclasses.replace(
        rec(Centre.LITIGATION, 1, "调解结案", closed=20, due=30, events=("立案", "受理"), case_type="诉前调"),
        links=(LinkRecord(LinkRelation.PRE_LITIGATION_MEDIATION, Centre.MEDIATION, "MEDIATION2"),))
    records = [linked, rec(Centre.MEDIATION, 2, "案结事了", closed=20, agreement_reached=True),
               rec(Centre.LITIGATION, 3, "调解结案", closed=20, due=30, events=("立案", "受理"), case_type="诉前调")]
    f = totals(records)
    assert (f.mediations, f.agreements) == (2, 2)  # not 3: the linked pair is one dispute


def test_transfer_rate_denominator_is_the_centres_that_transfer() -> None:
    d = dt.date(2024, 3, 5)
    records = [
        rec(Centre.PETITIONS, 1, "转送", events=("登记", "受理", "转送"), accepted_on=d),
        rec(Centre.PETITIONS, 2, "办结", events=("登记", "受理", "交办", "办理中", "办结"), accepted_on=d, closed=40),
        dataclasses.replace(rec(Centre.MEDIATION, 3, "分类流转"), status=MatterStatus.TRANSFERRED),
        rec(Centre.MEDIATION, 4, "先行调解"),
        rec(Centre.LEGAL_SERVICES, 5, "审查中"), rec(Centre.GOVERNANCE, 6, "上报"),
    ]
    f = figures_of(totals(records))
    assert (f.forwarded, f.assigned, f.transferred, f.transfer_base) == (1, 1, 1, 4)
    assert f.transfer_rate() == 0.75  # (1 + 1 + 1) ÷ 4, not ÷ 6 registered at every centre
    assert f.forwarding_rate() + f.assignment_rate() + f.routing_rate() == f.transfer_rate()  # type: ignore[operator]
