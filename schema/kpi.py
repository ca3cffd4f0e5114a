"""The governance centre's KPIs (DOMAIN.md), defined once on normalised records.

Pure functions, no I/O: the gateway-computed path classifies each
:class:`MatterRecord` here, the push-down path receives the same counts from a
centre's summary endpoint, and both end as *cells* — counts keyed by
(centre, category, month, child region) — that :func:`rollup` groups by the
dimensions a caller asked for. One rollup for both paths is why they agree.

Every count is over the **cohort registered in the period** (登记/受理 time in
``[from, to]``, CST): "closed" means "of those registered, closed by now".

>>> r = MatterRecord(Centre.MEDIATION, "TJ1", "TJ1", "邻里", "t", MatterStatus.CLOSED, "案结事了",
...                  "632301001001", dt.datetime(2024, 3, 5, tzinfo=CST))
>>> classify(r).registered
1
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from onedoor import deadlines
from onedoor.model import CST, Centre, LinkRelation, MatterRecord, MatterStatus

__all__ = [
    "COUNTS", "CellKey", "Cells", "Figures", "add_records", "child_region", "classify", "month_of", "petitioner",
    "rollup",
]


@dataclass(slots=True)
class Figures:
    """Counts of one group; the rates are derived, never summed."""

    registered: int = 0  # 登记数: matters registered in the period
    accepted: int = 0  # 受理数: accepted (taken on), not refused
    forwarded: int = 0  # 转送: petitions forwarded to the competent body (条例 Art.22)
    assigned: int = 0  # 交办: petitions assigned to a subordinate body (条例 Art.22)
    closed: int = 0  # 办结数: accepted and concluded
    closed_on_time: int = 0  # 按期办结数: concluded without missing any of its deadlines (onedoor.deadlines)
    mediations: int = 0  # 调解受理数: mediations taken on (矛调 + unlinked 诉前调解: one dispute, one mediation)
    agreements: int = 0  # 调解成功数: agreements reached in those mediations
    escalated: int = 0  # 纠纷转信访: disputes (mediation, grid) that went on to a petition
    repeat_petitions: int = 0  # 重复信访: same petitioner, same category, again in the period
    # Appended after the original ten (positional consumers keep their order).
    overdue_open: int = 0  # 超期未结数: not concluded at the as-of moment, a deadline already missed
    transferred: int = 0  # 流转数: mediations routed on to another body (分类流转, status TRANSFERRED)
    transfer_base: int = 0  # 转交办率分母: registered at the centres that record transfers (PETITIONS, MEDIATION)

    def add(self, other: Figures) -> None:
        for name in COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @classmethod
    def of(cls, counts: Mapping[str, int]) -> Figures:
        return cls(**{k: int(v) for k, v in counts.items() if k in COUNTS})


COUNTS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Figures))


@dataclass(frozen=True, slots=True)
class CellKey:
    centre: Centre
    category: str
    month: str  # YYYY-MM of registration, CST
    region: str  # the child region's code (next level below the queried one)


Cells = dict[CellKey, Figures]


def month_of(at: dt.datetime) -> str:
    return at.astimezone(CST).strftime("%Y-%m")


def child_digits(prefix: str) -> int:
    """How many leading digits name the level below ``prefix`` (63 → 4, 6323 → 6, …)."""
    return {2: 4, 4: 6, 6: 9, 9: 12}.get(len(prefix), 12)


def child_region(code: str, prefix: str) -> str:
    """The 6- or 12-digit code of the division directly below ``prefix`` holding ``code``."""
    digits = child_digits(prefix)
    head = code[:digits]
    return head.ljust(6, "0") if digits <= 6 else head.ljust(12, "0")


def _accepted(r: MatterRecord) -> bool:
    native = r.centre_status
    if r.centre is Centre.MEDIATION:
        return True  # registration and acceptance are one step (登记受理)
    if r.centre is Centre.LEGAL_SERVICES:
        return native in ("已批准", "已指派", "已结案", "已终止")
    if r.centre is Centre.PETITIONS:
        return r.extra.get("accepted_on") is not None and native != "不予受理"
    if r.centre is Centre.LITIGATION:
        return any(e.action == "受理" for e in r.events) or native not in ("已立案",)
    return native not in ("上报", "核实", "注销")  # grid: 立案 onwards, not cancelled


# Later than any act a record can hold: every deadline of a concluded matter is decided by then.
_SETTLED = dt.datetime(9999, 1, 1, tzinfo=CST)


def _on_time(r: MatterRecord) -> bool:
    """Whether a concluded matter met every deadline it ran under — each by its own event
    (:mod:`onedoor.deadlines`: petitions' acceptance and handling with an approved extension,
    legal aid's decision and assignment, the grid dispatch, mediation's month, the court's limit)."""
    return r.closed_at is not None and not deadlines.is_overdue(r, _SETTLED)


def _overdue_open(r: MatterRecord, as_of: dt.datetime) -> bool:
    """Still open at ``as_of`` with a deadline already missed — the same rule as the ``overdue`` list."""
    return (r.closed_at is None or r.closed_at > as_of) and deadlines.is_overdue(r, as_of)


def _linked_pre_litigation(r: MatterRecord) -> bool:
    """A court 诉前调 case linked to the mediation centre's case of the same dispute: that case counts."""
    return any(link.relation is LinkRelation.PRE_LITIGATION_MEDIATION for link in r.links)


def classify(r: MatterRecord, as_of: dt.datetime | None = None) -> Figures:
    """The counts one record contributes (``repeat_petitions`` needs its peers: :func:`add_records`).

    ``overdue_open`` depends on the moment the figures describe and is counted only when
    ``as_of`` is given; every other count depends on the record alone."""
    f = Figures(registered=1)
    f.accepted = int(_accepted(r))
    if r.centre is Centre.PETITIONS:
        steps = {e.action for e in r.events} | {r.centre_status}
        f.forwarded = int("转送" in steps)
        f.assigned = int("交办" in steps)
    if r.centre is Centre.MEDIATION:
        f.transferred = int(r.status is MatterStatus.TRANSFERRED)
    f.transfer_base = int(r.centre in (Centre.PETITIONS, Centre.MEDIATION))
    f.closed = int(bool(f.accepted) and r.closed_at is not None)
    f.closed_on_time = int(bool(f.closed) and _on_time(r))
    f.overdue_open = int(as_of is not None and _overdue_open(r, as_of))
    pre_litigation = r.centre is Centre.LITIGATION and r.extra.get("case_type") == "诉前调" \
        and not _linked_pre_litigation(r)
    if r.centre is Centre.MEDIATION or pre_litigation:
        f.mediations = f.accepted
        agreed = r.extra.get("agreement_reached") is True if r.centre is Centre.MEDIATION \
            else r.centre_status == "调解结案"
        f.agreements = int(bool(f.accepted) and agreed)
    if r.centre in (Centre.MEDIATION, Centre.GOVERNANCE):
        f.escalated = int(any(link.relation is LinkRelation.ESCALATED_TO for link in r.links))
    return f


def petitioner(r: MatterRecord) -> str | None:
    """Who petitioned (canonical resident ID), the person a repeat petition is counted by."""
    return next((p.id_number for p in r.parties if p.role == "PETITIONER" and p.id_number), None)


def add_records(cells: Cells, records: Iterable[MatterRecord], prefix: str,
                as_of: dt.datetime | None = None) -> None:
    """Classify ``records`` into ``cells`` (as of ``as_of``, see :func:`classify`). A petition
    is a repeat when the same petitioner (canonical ID) petitioned on the same category
    earlier in the period — the period bounds the look-back, so no extra centre call is needed."""
    seen: set[tuple[str, str]] = set()
    for r in sorted(records, key=lambda r: (r.received_at, r.native_id)):
        f = classify(r, as_of)
        who = petitioner(r) if r.centre is Centre.PETITIONS else None
        if who is not None:
            f.repeat_petitions = int((who, r.category) in seen)
            seen.add((who, r.category))
        key = CellKey(r.centre, r.category, month_of(r.received_at), child_region(r.region_code, prefix))
        cells.setdefault(key, Figures()).add(f)


def rollup(cells: Cells, dims: Sequence[str]) -> list[tuple[dict[str, str], Figures]]:
    """Sum cells by the named dimensions (``centre``, ``category``, ``month``, ``region``),
    sorted by the group key; no dimensions gives the one total."""
    groups: dict[tuple[str, ...], Figures] = {}
    for key, figures in cells.items():
        values = {"centre": key.centre.value, "category": key.category, "month": key.month,
                  "region": key.region}
        groups.setdefault(tuple(values[d] for d in dims), Figures()).add(figures)
    return [(dict(zip(dims, k, strict=True)), groups[k]) for k in sorted(groups)]
