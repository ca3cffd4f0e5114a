"""MEDIATION (矛调中心): REST JSON, camelCase, page/pageSize, ``X-Api-Key``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from onedoor.model import CATEGORIES, CST, Centre
from sandbox.common import BadRequest, codes, counter_party, csv, int_param, step_times, title
from sandbox.control import drop_half, is_partial
from sandbox.lifecycle import STATUSES
from sandbox.openapi import mediation_spec
from sandbox.world import Matter, World, to_cst

__all__ = ["DEMO_API_KEY", "create_app", "render_case"]

DEMO_API_KEY = "mediation-demo-key"
MEDIATION_TYPES = ("RM", "XZ", "SF", "HY")
STEPS = ("登记受理", "先行调解", "风险研判", "分类流转", "跟踪督办")
_FMT = "%Y-%m-%d %H:%M:%S"
_DISPUTE_CODES = tuple(f"{i + 1:02d}" for i in range(len(CATEGORIES)))
_RELATED = {  # (story, side) -> (system, relation)
    (0, 1): ("GRID", "SOURCE_EVENT"), (1, 0): ("COURT", "JUDICIAL_CONFIRMATION"),
    (2, 0): ("XF", "ESCALATED"), (4, 0): ("COURT", "PRE_LITIGATION"),
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


def create_app(world: World, *, api_key: str = DEMO_API_KEY) -> Starlette:
    async def cases(request: Request) -> Response:
        if request.headers.get("x-api-key") != api_key:
            return JSONResponse({"code": "UNAUTHORIZED"}, status_code=401)
        try:
            return _batch(request) if "ids" in request.query_params else _search(request)
        except BadRequest as exc:
            return JSONResponse({"code": "BAD_REQUEST", "message": str(exc)}, status_code=400)

    def _batch(request: Request) -> Response:
        ids = csv(request.query_params.get("ids")) or []
        if len(ids) > 100:
            raise BadRequest("at most 100 ids")
        items, missing = [], []
        for case_no in ids:
            row = world.row_of(Centre.MEDIATION, case_no)
            if row is None:
                missing.append(case_no)
            else:
                items.append(render_case(world, world.matter(row)))
        if is_partial(request.scope):
            items = drop_half(items)
        return JSONResponse({"items": items, "missing": missing})

    def _search(request: Request) -> Response:
        q = request.query_params
        page = int_param(request, "page", 1, 1, 10**9)
        size = int_param(request, "pageSize", 20, 1, 100)
        overdue = q.get("overdue")
        rows = world.search(
            Centre.MEDIATION, party_ids=csv(q.get("partyIdNos")),
            prefixes=csv(q.get("regionCodes")),
            statuses=codes(csv(q.get("statusCodes")), STATUSES[0], "statusCodes"),
            categories=codes(csv(q.get("disputeTypeCodes")), _DISPUTE_CODES, "disputeTypeCodes"),
            received_from=_time(q.get("acceptFrom"), "acceptFrom"),
            received_to=_time(q.get("acceptTo"), "acceptTo"),
            overdue=None if overdue in (None, "") else overdue in ("1", "true"),
        )
        chunk = rows[(page - 1) * size: page * size]
        return JSONResponse({"page": page, "pageSize": size, "total": len(rows),
                             "items": [render_case(world, world.matter(int(r))) for r in chunk]})

    async def openapi(request: Request) -> Response:
        return JSONResponse(mediation_spec())

    return Starlette(routes=[Route("/api/cases", cases), Route("/openapi.json", openapi)])
