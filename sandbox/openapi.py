"""Hand-written OpenAPI 3 documents of the four HTTP centres (``GET /openapi.json``).

They describe the wire contract of ``sandbox/API.md``; the connectors team can
point a client generator or a contract test at them.
"""

from __future__ import annotations

from typing import Any

__all__ = ["legal_spec", "litigation_spec", "mediation_spec", "petitions_spec"]

J = dict[str, Any]
_STR: J = {"type": "string"}
_NSTR: J = {"type": ["string", "null"]}
_INT: J = {"type": "integer"}


def _param(name: str, schema: J, description: str = "", *, repeat: bool = False,
           required: bool = False, where: str = "query") -> J:
    s: J = {"type": "array", "items": schema} if repeat else schema
    p: J = {"name": name, "in": where, "schema": s, "required": required}
    if repeat:
        p |= {"style": "form", "explode": True}
    if description:
        p["description"] = description
    return p


def _obj(props: J, required: list[str] | None = None) -> J:
    return {"type": "object", "properties": props, "required": required or list(props)}


def _doc(title: str, paths: J, schemas: J, security: J | None = None) -> J:
    doc: J = {"openapi": "3.1.0", "info": {"title": title, "version": "1.0.0"},
              "paths": paths, "components": {"schemas": schemas}}
    if security:
        doc["components"]["securitySchemes"] = security
        doc["security"] = [{name: []} for name in security]
    return doc


def _ok(schema_ref: str, media: str = "application/json") -> J:
    return {"200": {"description": "OK",
                    "content": {media: {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}}}


def _add_link(summary: str, path_param: str, body: J, answer: str, media: str = "application/json",
              *, created: bool = True) -> J:
    """An "add a cross-reference to an existing record" write: idempotent by content."""
    responses = _ok(answer, media) | {"404": {"description": "no such record"},
                                      "400": {"description": "bad body"}}
    if created:
        responses["201"] = {**responses["200"], "description": "added (200: it was there already)"}
    operation: J = {"summary": summary, "requestBody": {"required": True, "content": {media: {"schema": body}}},
                    "responses": responses}
    if path_param:
        operation["parameters"] = [_param(path_param, _STR, required=True, where="path")]
    return {"post": operation}


def mediation_spec() -> J:
    case = _obj({k: _STR for k in ("caseNo", "caseTitle", "disputeTypeCode",
                                   "mediationTypeCode", "sourceCode", "statusCode",
                                   "regionCode", "acceptTime", "deadline")} | {
        "finishTime": _NSTR, "agreementReached": {"type": ["boolean", "null"]},
        "agreementForm": {"enum": ["WRITTEN", "ORAL", None]},
        "parties": {"type": "array", "items": _obj({
            "role": {"enum": ["SQR", "BSQR"]}, "partyType": {"enum": ["1", "2"]}, "name": _STR,
            "idCardNo": _NSTR, "creditCode": _NSTR, "mobile": _NSTR, "address": _NSTR},
            ["role", "partyType", "name"])},
        "progress": {"type": "array", "items": _obj({"time": _STR, "step": _STR,
                                                     "remark": _NSTR})},
        "related": {"type": "array", "items": _obj({"system": _STR, "refNo": _STR,
                                                    "relation": _STR})}})
    csv = {"type": "string", "description": "comma-separated"}
    params = [_param("ids", csv, "batch read, ≤ 100 case numbers"),
              _param("partyIdNos", csv), _param("regionCodes", csv, "region code prefixes"),
              _param("statusCodes", csv), _param("disputeTypeCodes", csv, "01…15"),
              _param("acceptFrom", _STR, "YYYY-MM-DD HH:MM:SS"), _param("acceptTo", _STR),
              _param("overdue", {"enum": ["0", "1"]}), _param("page", _INT),
              _param("pageSize", {"type": "integer", "maximum": 100})]
    ok = {"description": "batch: {items, missing}; search: {page, pageSize, total, items}",
          "content": {"application/json": {"schema": {"oneOf": [
              _obj({"items": {"type": "array", "items": {"$ref": "#/components/schemas/Case"}},
                    "missing": {"type": "array", "items": _STR}}),
              _obj({"page": _INT, "pageSize": _INT, "total": _INT,
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Case"}}}),
          ]}}}}
    paths = {"/api/cases": {"get": {"parameters": params, "responses": {
        "200": ok, "400": {"description": "bad request"}, "401": {"description": "no key"}}}},
             "/api/cases/{caseNo}/related": _add_link(
                 "add a related entry (idempotent: the same entry twice is kept once)", "caseNo",
                 _obj({"system": _STR, "refNo": _STR, "relation": _STR}), "Case")}
    return _doc("MEDIATION 矛调中心", paths, {"Case": case},
                {"apiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}})


def legal_spec() -> J:
    person = _obj({"name": _STR, "id_number": _NSTR, "phone": _NSTR, "address": _NSTR,
                   "org_code": _NSTR}, ["name"])
    app = _obj({k: _STR for k in ("application_no", "service_type", "subject", "case_category",
                                  "status", "region_code", "submitted_at")} | {
        "decision_due": _NSTR, "closed_at": _NSTR, "applicant": person,
        "other_parties": {"type": "array", "items": person},
        "history": {"type": "array", "items": _obj({"at": _STR, "event": _STR, "note": _NSTR})},
        "links": {"type": "array", "items": _obj({"target_system": _STR, "target_id": _STR,
                                                  "type": _STR})},
        "is_minor": {"type": "boolean"}})
    params = [_param("application_no", _STR, "batch read (≤ 50)", repeat=True),
              _param("id_number", _STR, repeat=True), _param("region_prefix", _STR, repeat=True),
              _param("status", _STR, repeat=True), _param("service_type", _STR, repeat=True),
              _param("case_category", _STR, repeat=True),
              _param("submitted_from", _STR, "ISO 8601"), _param("submitted_to", _STR),
              _param("overdue", {"type": "boolean"}),
              _param("limit", {"type": "integer", "maximum": 100}), _param("cursor", _STR)]
    page = _obj({"data": {"type": "array", "items": {"$ref": "#/components/schemas/Application"}},
                 "next_cursor": _NSTR, "total_count": _INT, "not_found": {"type": "array"}},
                ["data"])
    paths = {"/v1/applications": {"get": {"parameters": params, "responses": _ok("Page") | {
        "401": {"description": "missing or invalid bearer token"}}}},
             "/v1/applications/{application_no}/links": _add_link(
                 "add a link (scope legal.write; idempotent: the same link twice is kept once)",
                 "application_no", _obj({"target_system": _STR, "target_id": _STR, "type": _STR}),
                 "Application")}
    return _doc("LEGAL_SERVICES 公共法律服务中心", paths, {"Application": app, "Page": page},
                {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}})


def petitions_spec() -> J:
    xml = {"type": "string", "description": "UTF-8 XML, see sandbox/API.md"}
    params = [_param(n, _STR, repeat=True) for n in ("sfzh", "qhdm", "zt", "lb", "nrfl")] + [
        _param("ksrq", _STR, "YYYYMMDD"), _param("jsrq", _STR, "YYYYMMDD"),
        _param("kssj", _STR, "HHMMSS (with ksrq)"), _param("jssj", _STR, "HHMMSS (with jsrq)"),
        _param("cq", {"enum": ["0", "1"]}), _param("start", _INT),
        _param("rows", {"type": "integer", "maximum": 50})]
    paths = {
        "/xf/item": {"get": {"parameters": [_param("xfbh", _STR, required=True)],
                             "responses": _ok("Xfjl", "application/xml") | {
                                 "404": {"description": "<error><code>NOT_FOUND</code></error>"}}}},
        "/xf/query": {"get": {"parameters": params, "responses": _ok("Result", "application/xml")}},
        "/xf/gl": _add_link("关联登记: <gldj><xfbh/><gl><xt/><bh/><lx/></gl></gldj> (idempotent)", "",
                            xml, "Xfjl", "application/xml"),
    }
    return _doc("PETITIONS 信访中心", paths, {"Xfjl": xml, "Result": xml})


def litigation_spec() -> J:
    case = _obj({k: _STR for k in ("caseNumber", "caseType", "procedure", "cause", "title",
                                   "state", "regionCode")} | {
        "court": _obj({"code": _STR, "name": _STR}), "filedAt": _INT,
        "deadlineAt": {"type": ["integer", "null"]}, "closedAt": {"type": ["integer", "null"]},
        "parties": {"type": "array", "items": _obj({"role": _STR, "name": _STR, "idNo": _NSTR,
                                                    "tel": _NSTR, "orgCode": _NSTR}, ["role", "name"])},
        "docket": {"type": "array", "items": _obj({"ts": _INT, "entry": _STR})},
        "related": {"type": "array", "items": _obj({"kind": _STR, "ref": _STR, "system": _STR},
                                                   ["kind", "ref"])}})
    client = _param("X-Client-Id", _STR, required=True, where="header")
    cases = {"type": "array", "items": {"$ref": "#/components/schemas/Case"}}
    limited = {"429": {"description": "rate limited; Retry-After: 1"}}
    add_related = _add_link(
        "AIP-136 custom method: add a related entry (idempotent)", "caseNumber",
        _obj({"related": _obj({"kind": _STR, "ref": _STR, "system": _STR}, ["kind", "ref"])}),
        "Case", created=False)
    add_related["post"]["parameters"].append(client)
    add_related["post"]["responses"] |= limited
    paths = {
        "/cases:batchGet": {"post": {
            "parameters": [client],
            "requestBody": {"content": {"application/json": {"schema": _obj({
                "caseNumbers": {"type": "array", "items": _STR, "maxItems": 100}})}}},
            "responses": _ok("Batch") | limited}},
        "/cases": {"get": {"parameters": [client] + [
            _param(n, _STR, repeat=True) for n in ("partyIdNo", "regionPrefix", "state", "cause")
        ] + [_param("filedFrom", _INT, "epoch ms"), _param("filedTo", _INT, "epoch ms"),
             _param("overdue", {"type": "boolean"}), _param("pageSize", _INT),
             _param("pageToken", _STR)], "responses": _ok("Page") | limited}},
        "/cases/{caseNumber}:addRelated": add_related,
    }
    schemas = {"Case": case, "Batch": _obj({"cases": cases, "notFound": {"type": "array"}}),
               "Page": _obj({"cases": cases, "nextPageToken": _STR, "totalSize": _INT},
                            ["cases", "totalSize"])}
    return _doc("LITIGATION 诉讼服务中心", paths, schemas)
