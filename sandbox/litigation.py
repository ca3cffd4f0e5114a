"""LITIGATION (诉讼服务中心): REST JSON with epoch-millisecond times, batch reads by
``POST /cases:batchGet``, and a real token-bucket rate limiter (429 + Retry-After)."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from onedoor.model import CATEGORIES, Centre
from sandbox import intake, summaries
from sandbox.columns import LAWSUIT
from sandbox.common import BadRequest, codes, counter_party, int_param, step_times, title
from sandbox.control import drop_half, is_partial
from sandbox.lifecycle import CASE_TYPES, STATUSES
from sandbox.moved import moved_court_case
from sandbox.openapi import litigation_spec
from sandbox.served import Served
from sandbox.world import Matter, World
from sandbox.writes import WriteStore, control_app

__all__ = ["TokenBucket", "create_app", "render_case"]

PROCEDURES = ("FIRST_INSTANCE", "APPEAL", "ENFORCEMENT", "PRE_LITIGATION_MEDIATION",
              "JUDICIAL_CONFIRMATION")
_ROLES = (("PLAINTIFF", "DEFENDANT"), ("APPELLANT", "APPELLEE"), ("APPLICANT", "RESPONDENT"),
          ("PLAINTIFF", "DEFENDANT"), ("APPLICANT", "APPLICANT"))
_FINAL = {"MEDIATED": "调解结案", "JUDGED": "判决/裁定", "CLOSED": "结案", "WITHDRAWN": "撤诉",
          "DISMISSED": "驳回"}
_RELATED = {(1, 1): "CONFIRMED_AGREEMENT", (3, 1): "LEGAL_AID", (4, 1): "PRE_LITIGATION_MEDIATION",
            (LAWSUIT, 1): "FAILED_MEDIATION"}


class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` banked; one per request."""

    def __init__(self, rate: float = 50.0, burst: int = 50) -> None:
        self.rate, self.burst = rate, burst
        self.tokens = float(burst)
        self.stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def _ms(ts: int | None) -> int | None:
    return None if ts is None else ts * 1000


def render_case(world: World, m: Matter) -> dict[str, Any]:
    other = counter_party(world, m)
    code, name = world.court_name(m.region_code[:6], CASE_TYPES[m.sub])
    first, second = _ROLES[m.sub]
    entries = ["立案"]
    if m.accepted is not None:
        entries.append("受理")
    if m.status == "TRIAL" or (m.closed is not None and m.sub in (0, 1)):
        entries.append("开庭")
    if m.closed is not None:
        entries.append(_FINAL[m.status])
    docket = [{"ts": int(at.timestamp() * 1000), "entry": entry}
              for at, entry in zip(step_times(m, len(entries), world.now_ts), entries, strict=True)]
    docket[0]["ts"] = m.received * 1000 + m.tie
    related = []
    if (m.story, m.side) in _RELATED:
        related.append({"kind": _RELATED[(m.story, m.side)], "ref": m.partner_id})
    return {
        "caseNumber": m.native_id, "court": {"code": code, "name": name},
        "caseType": CASE_TYPES[m.sub], "procedure": PROCEDURES[m.sub],
        "cause": CATEGORIES[m.category], "title": title(world, m), "state": m.status,
        "regionCode": m.region_code, "filedAt": m.received * 1000 + m.tie,
        "deadlineAt": _ms(m.due), "closedAt": _ms(m.closed),
        "parties": [
            {"role": first, "name": m.citizen.name, "idNo": m.stored_id, "tel": m.citizen.phone},
            {"role": second, "name": other.name, "idNo": other.id_number, "tel": other.phone,
             "orgCode": other.org_code},
        ],
        "docket": docket, "related": related,
    }


def _error(status: int, name: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"error": {"code": status, "status": name, "message": message}},
                        status_code=status, headers=headers)


def _new_case(body: Any) -> tuple[dict[str, Any], str | None]:
    """``{"requestId": …, "case": {…}}`` (AIP-155: the request id makes a retry safe)."""
    case = body.get("case") if isinstance(body, dict) else None
    if not isinstance(case, dict) or case.get("cause") not in CATEGORIES:
        raise BadRequest("body must be {\"requestId\": string, \"case\": {\"cause\": …}}")
    parties = [p for p in case.get("parties") or [] if isinstance(p, dict)]
    plaintiffs = [p for p in parties if p.get("role") in ("PLAINTIFF", "APPLICANT")]
    if not plaintiffs or not isinstance(case.get("regionCode"), str):
        raise BadRequest("a PLAINTIFF party and regionCode are required")

    def person(p: dict[str, Any]) -> dict[str, Any]:
        return {"name": p.get("name"), "id_number": p.get("idNo"), "phone": p.get("tel"),
                "org_code": p.get("orgCode")}

    request_id = body.get("requestId")
    return ({"title": case.get("title"), "category": case["cause"],
             "region_code": case["regionCode"], "kind": case.get("caseType") or "诉前调",
             "description": case.get("description"), "applicant": person(plaintiffs[0]),
             "others": [person(p) for p in parties if p not in plaintiffs],
             "related": case.get("related") or []},
            request_id if isinstance(request_id, str) and request_id else None)


def _new_related(body: Any) -> dict[str, str]:
    """``{"related": {"kind", "ref", "system"?}}`` of ``POST /cases/{caseNumber}:addRelated``."""
    related = body.get("related") if isinstance(body, dict) else None
    if not isinstance(related, dict) or not all(
            isinstance(related.get(k), str) and related[k] for k in ("kind", "ref")):
        raise BadRequest("body must be {\"related\": {\"kind\": string, \"ref\": string}}")
    link = {"kind": related["kind"], "ref": related["ref"]}
    if isinstance(related.get("system"), str) and related["system"]:
        link["system"] = related["system"]  # names the other system where the kind does not
    return link


def create_app(world: World, *, bucket: TokenBucket | None = None,
               writes: WriteStore | None = None) -> Starlette:
    limiter = bucket or TokenBucket()
    store = writes or WriteStore(world)

    records = Served(world, store, Centre.LITIGATION, "caseNumber", "related",
                     render_case, intake.render_court_case, moved_court_case)

    async def guard(request: Request) -> Response | None:
        if not request.headers.get("x-client-id"):
            return _error(400, "INVALID_ARGUMENT", "X-Client-Id header is required")
        if not limiter.take():
            return _error(429, "RESOURCE_EXHAUSTED", "rate limit exceeded",
                          {"Retry-After": "1"})
        return None

    async def batch_get(request: Request) -> Response:
        if (refused := await guard(request)) is not None:
            return refused
        try:
            body = json.loads(await request.body())
            numbers = body["caseNumbers"]
            if not isinstance(numbers, list) or not all(isinstance(n, str) for n in numbers):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return _error(400, "INVALID_ARGUMENT", "body must be {\"caseNumbers\": [string]}")
        if len(numbers) > 100:
            return _error(400, "INVALID_ARGUMENT", "at most 100 caseNumbers")
        cases, not_found = [], []
        for number in numbers:
            case = records.one(number)
            if case is None:
                not_found.append(number)
            else:
                cases.append(case)
        if is_partial(request.scope):
            cases = drop_half(cases)
        return JSONResponse({"cases": cases, "notFound": not_found})

    async def search(request: Request) -> Response:
        if (refused := await guard(request)) is not None:
            return refused
        if request.method == "POST":
            return await create(request)
        q = request.query_params

        def many(name: str) -> list[str] | None:
            return q.getlist(name) or None

        try:
            size = int_param(request, "pageSize", 20, 1, 100)
            offset = _token(q.get("pageToken"))
            low = int_param(request, "filedFrom", -1, -(10**15), 10**15)
            high = int_param(request, "filedTo", -1, -(10**15), 10**15)
            overdue = q.get("overdue")
            rows = store.search_world(
                Centre.LITIGATION, party_ids=many("partyIdNo"), prefixes=many("regionPrefix"),
                statuses=codes(many("state"), STATUSES[3], "state"),
                categories=codes(many("cause"), CATEGORIES, "cause"),
                received_from=-(-low // 1000) if "filedFrom" in q else None,
                received_to=high // 1000 if "filedTo" in q else None,
                overdue=None if overdue in (None, "") else overdue.lower() in ("true", "1"),
            )
        except BadRequest as exc:
            return _error(400, "INVALID_ARGUMENT", str(exc))
        narrowed = any(q.get(k) for k in ("state", "cause", "filedFrom", "filedTo", "overdue"))
        new = [] if narrowed else store.search(Centre.LITIGATION, many("partyIdNo"),
                                                many("regionPrefix"))
        cases = [records.written(w) for w in new[offset: offset + size]]
        cases += [records.generated(int(r)) for r in rows[max(0, offset - len(new)): max(0, offset + size - len(new))]]
        payload: dict[str, Any] = {"cases": cases, "totalSize": len(rows) + len(new)}
        if offset + size < len(rows) + len(new):
            payload["nextPageToken"] = base64.urlsafe_b64encode(
                f"p{offset + size}".encode()).decode()
        return JSONResponse(payload)

    async def create(request: Request) -> Response:
        try:
            fields, request_id = _new_case(json.loads(await request.body()))
        except (ValueError, BadRequest) as exc:
            return _error(400, "INVALID_ARGUMENT", str(exc))
        record, _ = store.add(Centre.LITIGATION, fields, status="FILED", first_step="立案",
                              key=request_id)
        return JSONResponse(records.written(record))

    async def add_related(request: Request) -> Response:
        """AIP-136 custom method: add a ``related`` entry to an existing case and return the
        case. The same entry twice is kept once, so a retry is harmless."""
        if (refused := await guard(request)) is not None:
            return refused
        number = request.path_params["case_number"]
        if records.one(number) is None:
            return _error(404, "NOT_FOUND", "case not found")
        try:
            link = _new_related(json.loads(await request.body()))
        except ValueError as exc:  # invalid JSON, or BadRequest (a ValueError)
            return _error(400, "INVALID_ARGUMENT", str(exc))
        store.add_link(Centre.LITIGATION, number, link)
        return JSONResponse(records.one(number))

    async def openapi(request: Request) -> Response:
        return JSONResponse(litigation_spec())

    return Starlette(routes=[Route("/cases:batchGet", batch_get, methods=["POST"]),
                             Route("/cases/{case_number}:addRelated", add_related, methods=["POST"]),
                             Route("/cases", search, methods=["GET", "POST"]),
                             Route("/cases:summarize", summaries.litigation_summary(world, guard)),
                             Route("/openapi.json", openapi)])


def control(world: World, writes: WriteStore) -> Starlette:
    return control_app(Centre.LITIGATION, writes, intake.STEPS[3], intake.CLOSED[3])


def _token(raw: str | None) -> int:
    if not raw:
        return 0
    try:
        text = base64.urlsafe_b64decode(raw.encode()).decode()
        return int(text[1:]) if text.startswith("p") else int("x")
    except ValueError:
        raise BadRequest("invalid pageToken") from None
