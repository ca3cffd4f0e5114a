"""Status changes of *generated* records, shown in each centre's native form.

A generated record is rendered from the world as generated; when the control
endpoint has moved it (:class:`~sandbox.writes.Moved`), its renderer's output is
patched here: the current status, the added history steps after the generated
ones, and the closing time (cleared when the record is reopened). GOVERNANCE's
strawberry objects are patched in :mod:`sandbox.governance`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from sandbox.lifecycle import last_day
from sandbox.world import to_cst
from sandbox.writes import Moved, iso

__all__ = ["moved_application", "moved_case", "moved_court_case", "moved_record"]

_FMT = "%Y-%m-%d %H:%M:%S"


def moved_case(case: dict[str, Any], m: Moved) -> dict[str, Any]:
    """MEDIATION: ``statusCode``, ``progress``, ``finishTime`` and the agreement fields."""
    agreed = m.status == "AJSL"
    case.update(statusCode=m.status,
                finishTime=to_cst(m.closed).strftime(_FMT) if m.closed is not None else None,
                agreementReached=agreed if m.closed is not None else None,
                agreementForm=(case.get("agreementForm") or "WRITTEN") if agreed else None)
    case["progress"] = [*case["progress"], *({"time": to_cst(t).strftime(_FMT), "step": s, "remark": None}
                                             for t, s in m.steps)]
    return case


def moved_application(application: dict[str, Any], m: Moved) -> dict[str, Any]:
    """LEGAL_SERVICES: ``status``, ``history``, ``closed_at``."""
    application.update(status=m.status, closed_at=iso(m.closed))
    application["history"] = [*application["history"],
                              *({"at": iso(t), "event": s, "note": None} for t, s in m.steps)]
    return application


def _set(record: ET.Element, tag: str, text: str) -> None:
    element = record.find(tag)
    if element is not None:
        element.text = text


def moved_record(record: ET.Element, m: Moved) -> ET.Element:
    """PETITIONS ``<xfjl>``: ``<zt>``, ``<lcjl>``, ``<bjrq>``; accepting (02) an unaccepted
    record also sets ``<slrq>`` and starts the 60-day ``<blqx>`` (条例 Art.34)."""
    _set(record, "zt", m.status)
    _set(record, "bjrq", to_cst(m.closed).strftime("%Y%m%d") if m.closed is not None else "")
    accepted = next((t for t, s in m.steps if s == "受理"), None)
    if accepted is not None and not (record.findtext("slrq") or "").strip():
        day = to_cst(accepted).date()
        _set(record, "slrq", day.strftime("%Y%m%d"))
        _set(record, "blqx", last_day(day, days=60).strftime("%Y%m%d"))
    lcjl = record.find("lcjl")
    if lcjl is not None:
        for t, step in m.steps:
            jl = ET.SubElement(lcjl, "jl")
            for tag, text in (("rq", to_cst(t).strftime("%Y%m%d")), ("dz", step), ("sm", "")):
                ET.SubElement(jl, tag).text = text
    return record


def moved_court_case(case: dict[str, Any], m: Moved) -> dict[str, Any]:
    """LITIGATION: ``state``, ``docket``, ``closedAt`` (epoch milliseconds)."""
    case.update(state=m.status, closedAt=m.closed * 1000 if m.closed is not None else None)
    case["docket"] = [*case["docket"], *({"ts": t * 1000, "entry": s} for t, s in m.steps)]
    return case
