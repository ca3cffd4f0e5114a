"""LEGAL_SERVICES (公共法律服务中心): REST JSON, snake_case, cursor pagination,
OAuth2 bearer JWTs from the sandbox IdP (verified with joserfc)."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from onedoor.model import CATEGORIES, CST, Centre
from sandbox import intake
from sandbox.common import BadRequest, codes, counter_party, int_param
from sandbox.control import drop_half, is_partial
from sandbox.idp import verify_token
from sandbox.lifecycle import SERVICE_TYPES, STATUSES
from sandbox.moved import moved_application
from sandbox.openapi import legal_spec
from sandbox.served import Served
from sandbox.world import Matter, World, to_cst
from sandbox.writes import WriteStore, control_app

__all__ = ["REQUIRED_SCOPE", "create_app", "render_application"]

REQUIRED_SCOPE = "legal.read"
WRITE_SCOPE = "legal.write"
_LABELS = ("法律咨询", "法律援助申请", "公证申请", "社区矫正", "安置帮教")
DAY = 86_400


def _iso(ts: int | None) -> str | None:
    return None if ts is None else to_cst(ts).isoformat()


def render_application(world: World, m: Matter) -> dict[str, Any]:
    other = counter_party(world, m)
    history: list[dict[str, Any]] = [{"at": _iso(m.received), "event": "submitted", "note": None}]
    if m.accepted is not None:
        history.append({"at": _iso(m.received + 600), "event": "under_review", "note": None})
        decided = "rejected" if m.status == "rejected" else "approved"
        history.append({"at": _iso(m.accepted), "event": decided, "note": None})
        if m.status in ("assigned", "closed", "terminated"):
            assigned = min(m.accepted + 3 * DAY, m.closed or world.now_ts)
            history.append({"at": _iso(assigned), "event": "assigned", "note": "指派律师"})
    if m.closed is not None and m.status != "rejected":
        history.append({"at": _iso(m.closed), "event": m.status, "note": None})
    links = []
    if m.story == 3 and m.side == 0:
        links.append({"target_system": "court", "target_id": m.partner_id,
                      "type": "represents_in"})
    age_at_submission = (to_cst(m.received).date() - m.citizen.birth).days
    return {
        "application_no": m.native_id, "service_type": SERVICE_TYPES[m.sub],
        "subject": f"{CATEGORIES[m.category]}{_LABELS[m.sub]}",
        "case_category": CATEGORIES[m.category], "status": m.status,
        "region_code": m.region_code, "submitted_at": _iso(m.received),
        "decision_due": to_cst(m.due - 1).date().isoformat() if m.due is not None else None,
        "closed_at": _iso(m.closed),
        "applicant": {"name": m.citizen.name, "id_number": m.stored_id,
                      "phone": m.citizen.phone, "address": m.citizen.address},
        "other_parties": [{"name": other.name, "id_number": other.id_number,
                           "phone": other.phone, "org_code": other.org_code}],
        "history": history, "links": links,
        "is_minor": m.sub == 3 and age_at_submission < 18 * 365,
    }


def _time(raw: str | None, name: str) -> int | None:
    if raw is None:
        return None
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"{name} must be ISO 8601") from None
    return int((value if value.tzinfo else value.replace(tzinfo=CST)).timestamp())


def _cursor(raw: str | None) -> int:
    if raw is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(raw.encode()).decode()
        if not text.startswith("o:"):
            raise ValueError(text)
        return int(text[2:])
    except ValueError:
        raise BadRequest("invalid cursor") from None


def _new_application(body: Any) -> dict[str, Any]:
    """A ``POST /v1/applications`` body → the fields a created record keeps. There is
    no idempotency key: ``external_ref`` is stored and echoed, nothing more."""
    if not isinstance(body, dict) or not isinstance(body.get("applicant"), dict):
        raise BadRequest("applicant is required")
    if body.get("service_type") not in SERVICE_TYPES or body.get("case_category") not in CATEGORIES:
        raise BadRequest("service_type and case_category must be known values")
    if not isinstance(body.get("region_code"), str):
        raise BadRequest("region_code is required")
    others = [o for o in body.get("other_parties") or [] if isinstance(o, dict)]
    return {"title": body.get("subject"), "category": body["case_category"],
            "region_code": body["region_code"], "kind": body["service_type"],
            "description": body.get("description"), "applicant": body["applicant"],
            "others": others, "external_ref": body.get("external_ref"),
            "related": body.get("links") or []}


def _new_link(body: Any) -> dict[str, str]:
    """A ``POST /v1/applications/{application_no}/links`` body: one ``links`` entry."""
    if not isinstance(body, dict) or not all(isinstance(body.get(k), str) and body[k]
                                             for k in ("target_system", "target_id", "type")):
        raise BadRequest("target_system, target_id and type are required strings")
    return {"target_system": body["target_system"], "target_id": body["target_id"],
            "type": body["type"]}


def _unauthorised(request: Request, keys: KeySet, issuer: str, scope: str) -> Response | None:
    auth = request.headers.get("authorization", "")
    try:
        if not auth.lower().startswith("bearer "):
            raise ValueError("no bearer token")
        verify_token(auth[7:].strip(), keys, issuer, scope)
    except (JoseError, ValueError):
        return JSONResponse({"error": "invalid_token"}, status_code=401,
                            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    return None


def create_app(world: World, *, keys: KeySet, issuer: str,
               writes: WriteStore | None = None) -> Starlette:
    store = writes or WriteStore(world)

    records = Served(world, store, Centre.LEGAL_SERVICES, "application_no", "links",
                     render_application, intake.render_application, moved_application)

    async def applications(request: Request) -> Response:
        writing = request.method == "POST"
        refused = _unauthorised(request, keys, issuer, WRITE_SCOPE if writing else REQUIRED_SCOPE)
        if refused is not None:
            return refused
        try:
            if writing:
                try:
                    fields = _new_application(json.loads(await request.body()))
                except ValueError as exc:
                    raise BadRequest(str(exc)) from None
                record, _ = store.add(Centre.LEGAL_SERVICES, fields, status="submitted",
                                      first_step="submitted")
                return JSONResponse(records.written(record), status_code=201)
            if "application_no" in request.query_params:
                return _batch(request)
            return _search(request)
        except BadRequest as exc:
            return JSONResponse({"error": "invalid_request", "error_description": str(exc)},
                                status_code=400)

    def _batch(request: Request) -> Response:
        wanted = request.query_params.getlist("application_no")
        if len(wanted) > 50:
            raise BadRequest("at most 50 application_no")
        data, not_found = [], []
        for number in wanted:
            application = records.one(number)
            if application is None:
                not_found.append(number)
            else:
                data.append(application)
        if is_partial(request.scope):
            data = drop_half(data)
        return JSONResponse({"data": data, "not_found": not_found})

    def _search(request: Request) -> Response:
        q = request.query_params

        def many(name: str) -> list[str] | None:
            return q.getlist(name) or None

        limit = int_param(request, "limit", 20, 1, 100)
        offset = _cursor(q.get("cursor"))
        overdue = q.get("overdue")
        rows = store.search_world(
            Centre.LEGAL_SERVICES, party_ids=many("id_number"), prefixes=many("region_prefix"),
            statuses=codes(many("status"), STATUSES[1], "status"),
            subs=codes(many("service_type"), SERVICE_TYPES, "service_type"),
            categories=codes(many("case_category"), CATEGORIES, "case_category"),
            received_from=_time(q.get("submitted_from"), "submitted_from"),
            received_to=_time(q.get("submitted_to"), "submitted_to"),
            overdue=None if overdue in (None, "") else overdue.lower() in ("true", "1"),
        )
        narrowed = any(q.get(k) for k in ("status", "service_type", "case_category",
                                          "submitted_from", "submitted_to", "overdue"))
        new = [] if narrowed else store.search(Centre.LEGAL_SERVICES, many("id_number"),
                                                many("region_prefix"))
        data = [records.written(w) for w in new[offset: offset + limit]]
        chunk = rows[max(0, offset - len(new)): max(0, offset + limit - len(new))]
        data += [records.generated(int(r)) for r in chunk]
        total = len(rows) + len(new)
        more = offset + limit < total
        cursor = base64.urlsafe_b64encode(f"o:{offset + limit}".encode()).decode() if more else None
        return JSONResponse({"data": data, "next_cursor": cursor, "total_count": total})

    async def links(request: Request) -> Response:
        """Add a link to an existing application (scope ``legal.write``). The same link
        twice is kept once (201 when added, 200 when already there): a retry is harmless."""
        refused = _unauthorised(request, keys, issuer, WRITE_SCOPE)
        if refused is not None:
            return refused
        number = request.path_params["application_no"]
        if records.one(number) is None:
            return JSONResponse({"error": "not_found"}, status_code=404)
        try:
            link = _new_link(json.loads(await request.body()))
        except ValueError as exc:  # invalid JSON, or BadRequest (a ValueError)
            return JSONResponse({"error": "invalid_request", "error_description": str(exc)},
                                status_code=400)
        added = store.add_link(Centre.LEGAL_SERVICES, number, link)
        return JSONResponse(records.one(number), status_code=201 if added else 200)

    async def openapi(request: Request) -> Response:
        return JSONResponse(legal_spec())

    return Starlette(routes=[Route("/v1/applications", applications, methods=["GET", "POST"]),
                             Route("/v1/applications/{application_no}/links", links, methods=["POST"]),
                             Route("/openapi.json", openapi)])


def control(world: World, writes: WriteStore) -> Starlette:
    return control_app(Centre.LEGAL_SERVICES, writes, intake.STEPS[1], intake.CLOSED[1])
