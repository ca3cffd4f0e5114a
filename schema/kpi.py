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

from onedoor.model import CST, Centre, LinkRelation, MatterRecord

__all__ = [
    "COUNTS", "CellKey", "Cells", "Figures", "add_records", "child_region", "classify", "month_of", "rollup",
]


@dataclass(slots=True)
class Figures:
    """Counts of one group; the rates are derived, never summed."""

    registered: int = 0  # 登记数: matters registered in the period
    accepted: int = 0  # 受理数: accepted (taken on), not refused
    forwarded: int = 0  # 转送: petitions forwarded to the competent body (条例 Art.22)
    assigned: int = 0  # 交办: petitions assigned to a subordinate body (条例 Art.22)
    closed: int = 0  # 办结数: accepted and concluded
    closed_on_time: int = 0  # 按期办结数: concluded within every deadline the centre keeps
    mediations: int = 0  # 调解受理数: mediations taken on (矛调 + 诉前调解)
    agreements: int = 0  # 调解成功数: agreements reached in those mediations
    escalated: int = 0  # 纠纷转信访: disputes (mediation, grid) that went on to a petition
    repeat_petitions: int = 0  # 重复信访: same petitioner, same category, again in the period

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


def _first(r: MatterRecord, actions: Sequence[str]) -> dt.datetime | None:
    return next((e.at for e in r.events if e.action in actions), None)


def _on_time(r: MatterRecord) -> bool:
    """Whether a concluded matter met the deadlines its centre keeps (see ``Statistics``)."""
    closed = r.closed_at
    if closed is None:
        return False
    if r.centre is Centre.PETITIONS:
        accepted_on = r.extra.get("accepted_on")
        acceptance_due = r.extra.get("acceptance_due_at")
        handling_due = r.extra.get("handling_due_at")
        if accepted_on is not None and acceptance_due is not None and \
                dt.datetime.combine(accepted_on, dt.time(0), CST) >= acceptance_due:
            return False
        return handling_due is None or closed <= handling_due
    if r.centre is Centre.LEGAL_SERVICES:  # the statute's clock is the 7-day decision
        due = r.extra.get("decision_due_at")
        decided = _first(r, ("approved", "rejected"))
        return due is None or (decided is not None and decided <= due)
    if r.centre is Centre.GOVERNANCE:  # the platform's clock is the dispatch limit
        dispatched = _first(r, ("派遣",))
        return r.due_at is None or (dispatched is not None and dispatched <= r.due_at)
    return r.due_at is None or closed <= r.due_at


def classify(r: MatterRecord) -> Figures:
    """The counts one record contributes (``repeat_petitions`` needs its peers: :func:`add_records`)."""
    f = Figures(registered=1)
    f.accepted = int(_accepted(r))
    if r.centre is Centre.PETITIONS:
        steps = {e.action for e in r.events} | {r.centre_status}
        f.forwarded = int("转送" in steps)
        f.assigned = int("交办" in steps)
    f.closed = int(bool(f.accepted) and r.closed_at is not None)
    f.closed_on_time = int(bool(f.closed) and _on_time(r))
    pre_litigation = r.centre is Centre.LITIGATION and r.extra.get("case_type") == "诉前调"
    if r.centre is Centre.MEDIATION or pre_litigation:
        f.mediations = f.accepted
        agreed = r.extra.get("agreement_reached") is True if r.centre is Centre.MEDIATION \
            else r.centre_status == "调解结案"
        f.agreements = int(bool(f.accepted) and agreed)
    if r.centre in (Centre.MEDIATION, Centre.GOVERNANCE):
        f.escalated = int(any(link.relation is LinkRelation.ESCALATED_TO for link in r.links))
    return f


def _petitioner(r: MatterRecord) -> str | None:
    return next((p.id_number for p in r.parties if p.role == "PETITIONER" and p.id_number), None)


def add_records(cells: Cells, records: Iterable[MatterRecord], prefix: str) -> None:
    """Classify ``records`` into ``cells``. A petition is a repeat when the same
    petitioner (canonical ID) petitioned on the same category earlier in the period
    — the period bounds the look-back, so no extra centre call is needed."""
    seen: set[tuple[str, str]] = set()
    for r in sorted(records, key=lambda r: (r.received_at, r.native_id)):
        f = classify(r)
        who = _petitioner(r) if r.centre is Centre.PETITIONS else None
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
