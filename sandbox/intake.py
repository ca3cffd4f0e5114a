"""Native renderings of records created through the sandbox write APIs.

A created record (:class:`~sandbox.writes.Written`) holds what was filed;
each centre shows it in exactly the shape its read API uses for generated
records, so a connector cannot tell the two apart — except that PETITIONS and
LEGAL_SERVICES echo the filer's external reference (``wbbh`` /
``external_ref``), the only way to find a record again at a centre without an
idempotency mechanism.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from onedoor.model import CATEGORIES
from onedoor.regions import get_region
from sandbox.lifecycle import STATUSES, last_day
from sandbox.world import to_cst
from sandbox.writes import Written, iso

__all__ = ["CLOSED", "STEPS", "render_application", "render_case", "render_court_case",
           "render_record"]

DAY = 86_400
_FMT = "%Y-%m-%d %H:%M:%S"
_DISPUTE_CODES = {name: f"{i + 1:02d}" for i, name in enumerate(CATEGORIES)}

# native status -> the step recorded in the record's history, per centre (index = Centre order)
STEPS: tuple[dict[str, str], ...] = (
    dict(zip(STATUSES[0], ("登记受理", "先行调解", "风险研判", "分类流转", "跟踪督办", "案结事了",
                           "终止"), strict=True)),
    {s: s for s in STATUSES[1]},
    dict(zip(STATUSES[2], ("登记", "受理", "转送", "交办", "办理中", "办结", "不予受理", "复查申请", "复核申请"),
             strict=True)),
    dict(zip(STATUSES[3], ("立案", "受理", "开庭", "调解结案", "判决/裁定", "结案", "撤诉", "驳回"),
             strict=True)),
    dict(zip(STATUSES[4], ("上报", "核实", "立案", "注销", "派遣", "处置", "反馈", "核查结案",
                           "评价"), strict=True)),
)
CLOSED: tuple[frozenset[str], ...] = (
    frozenset({"AJSL", "ZZ"}), frozenset({"closed", "rejected", "terminated"}),
    frozenset({"06", "07"}), frozenset({"MEDIATED", "JUDGED", "CLOSED", "WITHDRAWN", "DISMISSED"}),
    frozenset({"CANCELLED", "CLOSED", "EVALUATED"}),
)


def _title(w: Written) -> str:
    return str(w.fields.get("title") or f"{w.fields['category']}纠纷")


def _others(w: Written) -> list[dict[str, Any]]:
    return list(w.fields.get("others") or [])


def render_case(w: Written) -> dict[str, Any]:
    """MEDIATION's camelCase case."""
    a = w.fields["applicant"]
    parties = [{"role": "SQR", "partyType": "1", "name": a["name"], "idCardNo": a.get("id_number"),
                "mobile": a.get("phone"), "address": a.get("address")}]
    for o in _others(w):
        org = o.get("org_code")
        parties.append({"role": "BSQR", "partyType": "2" if org else "1", "name": o["name"],
                        "idCardNo": o.get("id_number"), "creditCode": org, "mobile": o.get("phone")})
    closed = w.closed is not None
    return {
        "caseNo": w.native_id, "caseTitle": _title(w),
        "disputeTypeCode": _DISPUTE_CODES.get(str(w.fields["category"]), "15"),
        "mediationTypeCode": w.fields.get("kind") or "RM", "sourceCode": "SQ",
        "statusCode": w.status, "regionCode": w.fields["region_code"],
        "acceptTime": to_cst(w.received).strftime(_FMT),
        "deadline": last_day(to_cst(w.received).date(), months=1).isoformat(),
        "finishTime": to_cst(w.closed).strftime(_FMT) if w.closed is not None else None,
        "agreementReached": (w.status == "AJSL") if closed else None,
        "agreementForm": "WRITTEN" if w.status == "AJSL" else None,
        "parties": parties,
        "progress": [{"time": to_cst(t).strftime(_FMT), "step": s, "remark": None}
                     for t, s in w.steps],
        "related": list(w.fields.get("related") or []),
    }


def render_application(w: Written) -> dict[str, Any]:
    """LEGAL_SERVICES' snake_case application (legal aid: decision due in 7 days, Art.43)."""
    a = w.fields["applicant"]
    kind = str(w.fields.get("kind") or "consultation")
    due = last_day(to_cst(w.received).date(), days=7) if kind == "legal_aid" else None
    return {
        "application_no": w.native_id, "service_type": kind, "subject": _title(w),
        "case_category": w.fields["category"], "status": w.status,
        "region_code": w.fields["region_code"], "submitted_at": iso(w.received),
        "decision_due": due.isoformat() if due else None, "closed_at": iso(w.closed),
        "applicant": {"name": a["name"], "id_number": a.get("id_number"), "phone": a.get("phone"),
                      "address": a.get("address")},
        "other_parties": [{"name": o["name"], "id_number": o.get("id_number"),
                           "phone": o.get("phone"), "org_code": o.get("org_code")}
                          for o in _others(w)],
        "history": [{"at": iso(t), "event": s, "note": None} for t, s in w.steps],
        "links": list(w.fields.get("related") or []), "is_minor": False,
        "external_ref": w.fields.get("external_ref"),
    }


def _add(parent: ET.Element, tag: str, text: str | None = "") -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = text or ""
    return element


def render_record(w: Written) -> ET.Element:
    """PETITIONS' ``<xfjl>``: 15 days to decide acceptance (条例 Art.22)."""
    root = ET.Element("xfjl")
    at = to_cst(w.received)
    accepted = next((t for t, s in w.steps if s == "受理"), None)
    for tag, text in (
        ("xfbh", w.native_id), ("bt", _title(w)), ("xfxs", str(w.fields.get("channel") or "1")),
        ("xflb", str(w.fields.get("kind") or "SSQJ")), ("nrfl", str(w.fields["category"])),
        ("zt", w.status), ("qhdm", str(w.fields["region_code"])), ("djrq", at.strftime("%Y%m%d")),
        ("djsj", at.strftime("%H%M%S")),
        ("slrq", to_cst(accepted).strftime("%Y%m%d") if accepted else ""),
        ("slqx", last_day(at.date(), days=15).strftime("%Y%m%d")),
        ("blqx", last_day(to_cst(accepted).date(), days=60).strftime("%Y%m%d")
         if accepted else ""),
        ("bjrq", to_cst(w.closed).strftime("%Y%m%d") if w.closed else ""),
        ("wbbh", str(w.fields.get("external_ref") or "")),
    ):
        _add(root, tag, text)
    a = w.fields["applicant"]
    xfr = ET.SubElement(root, "xfr")
    for tag, value in (("xm", a["name"]), ("sfzh", a.get("id_number")), ("dh", a.get("phone")),
                       ("dz", a.get("address"))):
        _add(xfr, tag, value)
    for o in _others(w):
        bfyr = ET.SubElement(root, "bfyr")
        _add(bfyr, "xm", o["name"])
        if o.get("id_number"):
            _add(bfyr, "sfzh", o["id_number"])
    lcjl = ET.SubElement(root, "lcjl")
    for t, step in w.steps:
        jl = ET.SubElement(lcjl, "jl")
        _add(jl, "rq", to_cst(t).strftime("%Y%m%d"))
        _add(jl, "dz", step)
        _add(jl, "sm", "")
    glxx = ET.SubElement(root, "glxx")
    for link in w.fields.get("related") or []:
        gl = ET.SubElement(glxx, "gl")
        for tag in ("xt", "bh", "lx"):
            _add(gl, tag, str(link.get(tag, "")))
    return root


def render_court_case(w: Written) -> dict[str, Any]:
    """LITIGATION's case, epoch milliseconds; filing decided within 7 days (民诉法 Art.126)."""
    county = str(w.fields["region_code"])[:6]
    court_code = w.native_id.split("）", 1)[1][:5]
    kind = str(w.fields.get("kind") or "诉前调")
    procedures = {"民初": "FIRST_INSTANCE", "诉前调": "PRE_LITIGATION_MEDIATION"}
    a = w.fields["applicant"]
    parties = [{"role": "PLAINTIFF", "name": a["name"], "idNo": a.get("id_number"),
                "tel": a.get("phone")}]
    parties += [{"role": "DEFENDANT", "name": o["name"], "idNo": o.get("id_number"),
                 "tel": o.get("phone"), "orgCode": o.get("org_code")} for o in _others(w)]
    return {
        "caseNumber": w.native_id,
        "court": {"code": court_code, "name": f"{get_region(county).name}人民法院"},
        "caseType": kind, "procedure": procedures.get(kind, "FIRST_INSTANCE"),
        "cause": w.fields["category"], "title": _title(w), "state": w.status,
        "regionCode": w.fields["region_code"], "filedAt": w.received * 1000,
        "deadlineAt": (w.received + 7 * DAY) * 1000,
        "closedAt": w.closed * 1000 if w.closed is not None else None,
        "parties": parties,
        "docket": [{"ts": t * 1000, "entry": s} for t, s in w.steps],
        "related": list(w.fields.get("related") or []),
    }
