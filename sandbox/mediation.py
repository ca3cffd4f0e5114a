"""MEDIATION (矛调中心): REST JSON, camelCase, page/pageSize, ``X-Api-Key``."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from onedoor.model import CATEGORIES, CST, Centre
from sandbox import intake, summaries
from sandbox.columns import LAWSUIT
from sandbox.common import BadRequest, codes, counter_party, csv, int_param, step_times, title
from sandbox.control import drop_half, is_partial
from sandbox.lifecycle import STATUSES
from sandbox.moved import moved_case
from sandbox.openapi import mediation_spec
from sandbox.served import Served
from sandbox.world import Matter, World, to_cst
from sandbox.writes import WriteStore, control_app

__all__ = ["DEMO_API_KEY", "create_app", "render_case"]

DEMO_API_KEY = "mediation-demo-key"
MEDIATION_TYPES = ("RM", "XZ", "SF", "HY")
STEPS = ("登记受理", "先行调解", "风险研判", "分类流转", "跟踪督办")
_FMT = "%Y-%m-%d %H:%M:%S"
_DISPUTE_CODES = tuple(f"{i + 1:02d}" for i in range(len(CATEGORIES)))
_RELATED = {  # (story, side) -> (system, relation)
    (0, 1): ("GRID", "SOURCE_EVENT"), (1, 0): ("COURT", "JUDICIAL_CONFIRMATION"),
    (2, 0): ("XF", "ESCALATED"), (4, 0): ("COURT", "PRE_LITIGATION"), (LAWSUIT, 0): ("COURT", "LAWSUIT"),
}


def render_case(world: World, m: Matter) -> dict[str, Any]:
    status = m.status
    closed = m.closed is not None
    other = counter_party(world, m)
    referred = (m.story, m.side) in ((0, 1), (4, 0))
    source = "WT" if referred else ("ZD", "SQ")[int(m.rng.integers(2))]
    agreed = status == "AJSL"
    written = m.story == 1 or m.rng.random() < 0.7
    steps = list(STEPS[: STATUSES[0].index(status) + 1]) if not closed else (
        [*STEPS, "案结事了"] if agreed else [*STEPS[:2], "终止"])
    times = step_times(m, len(steps), world.now_ts)
    respondent: dict[str, Any] = {"role": "BSQR", "name": other.name, "mobile": other.phone}
    if other.is_org:
        respondent |= {"partyType": "2", "creditCode": other.org_code}
    else:
        respondent |= {"partyType": "1", "idCardNo": other.id_number, "address": other.address}
    related = []
    if (m.story, m.side) in _RELATED:
        system, relation = _RELATED[(m.story, m.side)]
        related.append({"system": system, "refNo": m.partner_id, "relation": relation})
    return {
        "caseNo": m.native_id, "caseTitle": title(world, m),
        "disputeTypeCode": _DISPUTE_CODES[m.category],
        "mediationTypeCode": MEDIATION_TYPES[m.sub], "sourceCode": source, "statusCode": status,
        "regionCode": m.region_code, "acceptTime": to_cst(m.received).strftime(_FMT),
        "deadline": to_cst((m.due or m.received) - 1).date().isoformat(),
        "finishTime": to_cst(m.closed).strftime(_FMT) if m.closed is not None else None,
        "agreementReached": agreed if closed else None,
        "agreementForm": ("WRITTEN" if written else "ORAL") if agreed else None,
        # 人民调解法 Art.29/30: in effect once signed and sealed (written) or reached (oral) — the finish day.
        "agreementEffectiveDate": to_cst(m.closed).date().isoformat() if agreed and m.closed is not None else None,
        "parties": [
            {"role": "SQR", "partyType": "1", "name": m.citizen.name,
             "idCardNo": m.stored_id, "mobile": m.citizen.phone, "address": m.citizen.address},
            respondent,
        ],
        "progress": [{"time": t.strftime(_FMT), "step": s, "remark": None}
                     for t, s in zip(times, steps, strict=True)],
        "related": related,
    }


def _time(raw: str | None, name: str) -> int | None:
    if raw is None:
        return None
    try:
        return int(dt.datetime.strptime(raw, _FMT).replace(tzinfo=CST).timestamp())
    except ValueError:
        raise BadRequest(f"{name} must look like 2024-01-01 00:00:00") from None


def _new_case(body: Any) -> dict[str, Any]:
    """A ``POST /api/cases`` body → the fields a created record keeps."""
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object")
    parties = body.get("parties")
    if not isinstance(parties, list) or not parties:
        raise BadRequest("parties is required")
    applicants = [p for p in parties if isinstance(p, dict) and p.get("role") == "SQR"]
    code = body.get("disputeTypeCode")
    if not applicants or code not in _DISPUTE_CODES or not isinstance(body.get("regionCode"), str):
        raise BadRequest("SQR party, disputeTypeCode and regionCode are required")

    def person(p: dict[str, Any]) -> dict[str, Any]:
        return {"name": p.get("name"), "id_number": p.get("idCardNo"), "phone": p.get("mobile"),
                "address": p.get("address"), "org_code": p.get("creditCode")}

    return {"title": body.get("caseTitle"), "category": CATEGORIES[_DISPUTE_CODES.index(code)],
            "region_code": body["regionCode"], "kind": body.get("mediationTypeCode") or "RM",
            "description": body.get("description"), "applicant": person(applicants[0]),
            "others": [person(p) for p in parties if isinstance(p, dict) and p.get("role") == "BSQR"],
            "related": body.get("related") or []}


def _new_related(body: Any) -> dict[str, str]:
    """A ``POST /api/cases/{caseNo}/related`` body: one ``related`` entry."""
    if not isinstance(body, dict) or not all(isinstance(body.get(k), str) and body[k]
                                             for k in ("system", "refNo", "relation")):
        raise BadRequest("body must be {\"system\", \"refNo\", \"relation\"} strings")
    return {"system": body["system"], "refNo": body["refNo"], "relation": body["relation"]}


def create_app(world: World, *, api_key: str = DEMO_API_KEY,
               writes: WriteStore | None = None) -> Starlette:
    store = writes or WriteStore(world)

    records = Served(world, store, Centre.MEDIATION, "caseNo", "related",
                     render_case, intake.render_case, moved_case)

    async def cases(request: Request) -> Response:
        if request.headers.get("x-api-key") != api_key:
            return JSONResponse({"code": "UNAUTHORIZED"}, status_code=401)
        try:
            if request.method == "POST":
                return await _create(request)
            return _batch(request) if "ids" in request.query_params else _search(request)
        except BadRequest as exc:
            return JSONResponse({"code": "BAD_REQUEST", "message": str(exc)}, status_code=400)

    async def _create(request: Request) -> Response:
        """Honours ``Idempotency-Key``: a repeat returns the first case with 200."""
        try:
            fields = _new_case(json.loads(await request.body()))
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        key = request.headers.get("idempotency-key") or None
        record, replayed = store.add(Centre.MEDIATION, fields, status="DJ", first_step="登记受理",
                                     key=key)
        return JSONResponse(records.written(record), status_code=200 if replayed else 201,
                            headers={"Idempotent-Replayed": "true"} if replayed else None)

    def _batch(request: Request) -> Response:
        ids = csv(request.query_params.get("ids")) or []
        if len(ids) > 100:
            raise BadRequest("at most 100 ids")
        items, missing = [], []
        for case_no in ids:
            case = records.one(case_no)
            if case is None:
                missing.append(case_no)
            else:
                items.append(case)
        if is_partial(request.scope):
            items = drop_half(items)
        return JSONResponse({"items": items, "missing": missing})

    def _search(request: Request) -> Response:
        q = request.query_params
        page = int_param(request, "page", 1, 1, 10**9)
        size = int_param(request, "pageSize", 20, 1, 100)
        overdue = q.get("overdue")
        rows = store.search_world(
            Centre.MEDIATION, party_ids=csv(q.get("partyIdNos")),
            prefixes=csv(q.get("regionCodes")),
            statuses=codes(csv(q.get("statusCodes")), STATUSES[0], "statusCodes"),
            categories=codes(csv(q.get("disputeTypeCodes")), _DISPUTE_CODES, "disputeTypeCodes"),
            received_from=_time(q.get("acceptFrom"), "acceptFrom"),
            received_to=_time(q.get("acceptTo"), "acceptTo"),
            overdue=None if overdue in (None, "") else overdue in ("1", "true"),
        )
        new = [] if _narrowed(q) else store.search(Centre.MEDIATION, csv(q.get("partyIdNos")),
                                                    csv(q.get("regionCodes")))
        start, end = (page - 1) * size, page * size
        items = [records.written(w) for w in new[start:end]]
        chunk = rows[max(0, start - len(new)): max(0, end - len(new))]
        items += [records.generated(int(r)) for r in chunk]
        return JSONResponse({"page": page, "pageSize": size, "total": len(rows) + len(new),
                             "items": items})

    async def related(request: Request) -> Response:
        """Add a cross-reference to an existing case; the same one twice is kept once
        (201 when added, 200 when it was there already), so a retry is harmless."""
        if request.headers.get("x-api-key") != api_key:
            return JSONResponse({"code": "UNAUTHORIZED"}, status_code=401)
        case_no = request.path_params["case_no"]
        if records.one(case_no) is None:
            return JSONResponse({"code": "NOT_FOUND"}, status_code=404)
        try:
            link = _new_related(json.loads(await request.body()))
        except ValueError as exc:  # invalid JSON, or BadRequest (a ValueError)
            return JSONResponse({"code": "BAD_REQUEST", "message": str(exc)}, status_code=400)
        added = store.add_link(Centre.MEDIATION, case_no, link)
        return JSONResponse(records.one(case_no), status_code=201 if added else 200)

    async def openapi(request: Request) -> Response:
        return JSONResponse(mediation_spec())

    return Starlette(routes=[Route("/api/cases", cases, methods=["GET", "POST"]),
                             Route("/api/cases/{case_no}/related", related, methods=["POST"]),
                             Route("/api/stats/summary", summaries.mediation_summary(world, api_key)),
                             Route("/openapi.json", openapi)])


def control(world: World, writes: WriteStore) -> Starlette:
    return control_app(Centre.MEDIATION, writes, intake.STEPS[0], intake.CLOSED[0])


def _narrowed(q: Any) -> bool:
    """Created records are found by party and region only; a status, category, time
    or overdue filter leaves them out (they are new, registered, not overdue)."""
    return any(q.get(k) for k in ("statusCodes", "disputeTypeCodes", "acceptFrom", "acceptTo",
                                  "overdue"))
