"""MEDIATION (矛调中心): REST JSON, camelCase, page/pageSize, ``X-Api-Key``.

Quirks kept here: dispute categories travel as two-digit codes, statuses and
types as pinyin initials (DJ, XXTJ, RM…), times as ``YYYY-MM-DD HH:MM:SS``
CST and the deadline as a bare date. Request building and payload mapping
are pure functions; :class:`MediationConnector` only moves bytes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import httpx

from onedoor.model import (
    CATEGORIES,
    CST,
    Centre,
    EventRecord,
    LinkRecord,
    LinkRelation,
    MatterRecord,
    MatterStatus,
    PartyKind,
    PartyRecord,
)

from ._common import (
    FilterSpelling,
    as_dict,
    as_list,
    canonical_id,
    check_accounted,
    chunks,
    collect_pages,
    decoding,
    filter_params,
    invert,
    json_body,
    links_from,
    native_link,
    opt_bool,
    opt_str,
    req_int,
    req_str,
    to_cst,
    transfer_table,
    unique,
    with_deadlines,
)
from ._connector import SearchConnector, fan_out
from ._writes import created_json, link_path, post_link
from .base import ListQuery, MatterDraft
from .http import CentreClient
from .settings import CallPolicy, MediationSettings

__all__ = [
    "STATUSES",
    "MediationConnector",
    "batch_params",
    "create_body",
    "parse_batch",
    "parse_case",
    "parse_search",
    "related_entry",
    "search_params",
]

CENTRE = Centre.MEDIATION
MAX_PAGE = 100
MAX_BATCH = 100
_TIME = "%Y-%m-%d %H:%M:%S"

# native code → (unified status, label shown as centre_status)
STATUSES: Mapping[str, tuple[MatterStatus, str]] = {
    "DJ": (MatterStatus.ACCEPTED, "登记受理"),  # registration and acceptance are one step here
    "XXTJ": (MatterStatus.IN_PROGRESS, "先行调解"),
    "FXYP": (MatterStatus.IN_PROGRESS, "风险研判"),
    "FLLZ": (MatterStatus.TRANSFERRED, "分类流转"),
    "GZDB": (MatterStatus.IN_PROGRESS, "跟踪督办"),
    "AJSL": (MatterStatus.CLOSED, "案结事了"),
    "ZZ": (MatterStatus.TERMINATED, "终止"),
}
_NATIVE_STATUSES = invert(STATUSES)
MEDIATION_TYPES = {"RM": "人民调解", "XZ": "行政调解", "SF": "司法调解", "HY": "行业性专业性调解"}
SOURCES = {"ZD": "主动调解", "SQ": "申请调解", "WT": "委托移送"}
_ROLES = {"SQR": "APPLICANT", "BSQR": "RESPONDENT"}
_CATEGORY_CODES = {name: f"{i:02d}" for i, name in enumerate(CATEGORIES, start=1)}
_CATEGORY_NAMES = {code: name for name, code in _CATEGORY_CODES.items()}
# (system, relation) as stored here → relation from this side, other centre
_LINKS: Mapping[tuple[str, str], tuple[LinkRelation, Centre]] = {
    ("GRID", "SOURCE_EVENT"): (LinkRelation.REFERRED_FROM, Centre.GOVERNANCE),
    ("COURT", "JUDICIAL_CONFIRMATION"): (LinkRelation.CONFIRMED_BY, Centre.LITIGATION),
    ("XF", "ESCALATED"): (LinkRelation.ESCALATED_TO, Centre.PETITIONS),
    ("COURT", "PRE_LITIGATION"): (LinkRelation.PRE_LITIGATION_OF, Centre.LITIGATION),
    ("COURT", "LAWSUIT"): (LinkRelation.LITIGATED_AS, Centre.LITIGATION),  # 调解不成起诉
    # transfers (转办/交办): the other centre as this one names it, then out / in
    **transfer_table({Centre.LEGAL_SERVICES: "FLFW", Centre.PETITIONS: "XF", Centre.LITIGATION: "COURT",
                      Centre.GOVERNANCE: "GRID"}, "TRANSFER_OUT", "TRANSFER_IN", lambda s, r: (s, r)),
}


# ---- pure: requests ---------------------------------------------------------


def _fmt(value: dt.datetime) -> str:
    return to_cst(value).strftime(_TIME)


_FILTERS = FilterSpelling(
    region="regionCodes", status="statusCodes", category="disputeTypeCodes",
    received_from="acceptFrom", received_to="acceptTo", overdue="overdue",
    statuses=_NATIVE_STATUSES, moment=_fmt,
    categories={name: (code,) for name, code in _CATEGORY_CODES.items()}, yes_no=("1", "0"))


def search_params(
    query: ListQuery | None = None,
    *,
    party_ids: Sequence[str] = (),
    page: int = 1,
    page_size: int = 20,
) -> dict[str, str] | None:
    """Query string for ``GET /api/cases``; ``None`` when no native code can
    match the unified filters (answer empty without asking)."""
    params: dict[str, str] = {"page": str(page), "pageSize": str(page_size)}
    if party_ids:
        params["partyIdNos"] = ",".join(party_ids)
    if query is None:
        return params
    filters = filter_params(query, _FILTERS)
    if filters is None:
        return None
    for name, value in filters:  # MEDIATION takes lists comma-separated
        params[name] = f"{params[name]},{value}" if name in params else value
    return params


def batch_params(case_nos: Sequence[str]) -> dict[str, str]:
    return {"ids": ",".join(case_nos)}


def _native_party(p: PartyRecord, role: str) -> dict[str, Any]:
    org = p.kind is PartyKind.ORGANISATION
    return {"role": role, "partyType": "2" if org else "1", "name": p.name, "idCardNo": p.id_number,
            "creditCode": p.org_code, "mobile": p.phone, "address": p.address}


def related_entry(link: LinkRecord) -> dict[str, str]:
    """One ``related`` entry: ``{"system", "refNo", "relation"}``."""
    system, relation = native_link(_LINKS, link)
    return {"system": system, "refNo": link.native_id, "relation": relation}


def create_body(draft: MatterDraft) -> dict[str, Any]:
    """``POST /api/cases``: a party application (申请调解) to people's mediation."""
    return {"caseTitle": draft.title, "disputeTypeCode": _CATEGORY_CODES.get(draft.category, "15"),
            "regionCode": draft.region_code, "mediationTypeCode": "RM", "sourceCode": "SQ",
            "description": draft.description,
            "parties": [_native_party(draft.applicant, "SQR"),
                        *(_native_party(p, "BSQR") for p in draft.others)],
            "related": [related_entry(link) for link in draft.links]}


# ---- pure: responses --------------------------------------------------------


def _time(obj: Mapping[str, Any], key: str) -> dt.datetime | None:
    text = opt_str(obj, key)
    if text is None:
        return None
    # "YYYY-MM-DD HH:MM:SS", local time; fromisoformat is ~10x faster than strptime.
    if len(text) != 19 or text[10] != " ":
        raise ValueError(f"{key} is not 'YYYY-MM-DD HH:MM:SS'")
    return dt.datetime.fromisoformat(text).replace(tzinfo=CST)


def _party(raw: Any) -> PartyRecord:
    p = as_dict(raw, "party")
    role = req_str(p, "role")
    return PartyRecord(
        role=_ROLES.get(role, role),
        name=req_str(p, "name"),
        kind=PartyKind.ORGANISATION if p.get("partyType") == "2" else PartyKind.PERSON,
        id_number=canonical_id(opt_str(p, "idCardNo")),
        phone=opt_str(p, "mobile"),
        org_code=opt_str(p, "creditCode"),
        address=opt_str(p, "address"),
    )


def _effective_on(c: Mapping[str, Any]) -> dt.date | None:
    """The day the agreement took effect (人民调解法 Art.29/30: written on signing and sealing,
    oral on reaching it); an older payload without it: the day the case finished with one."""
    effective = opt_str(c, "agreementEffectiveDate")
    if effective is not None:
        return dt.date.fromisoformat(effective)
    finished = _time(c, "finishTime")
    return finished.date() if finished is not None and opt_bool(c, "agreementReached") else None


def parse_case(raw: Any) -> MatterRecord:
    """One native case → :class:`MatterRecord` (raises ``ValueError``/``KeyError``
    on a contract violation; callers wrap with :func:`decoding`)."""
    c = as_dict(raw, "case")
    status, label = STATUSES[req_str(c, "statusCode")]
    mediation_type = opt_str(c, "mediationTypeCode")
    source = opt_str(c, "sourceCode")
    received = _time(c, "acceptTime")
    if received is None:
        raise ValueError("acceptTime missing")
    # ``deadline`` (the centre's 30-day date) is not read: one month is counted as a month
    # (民法典 Art.202) by onedoor.deadlines.
    return with_deadlines(MatterRecord(
        centre=CENTRE,
        native_id=req_str(c, "caseNo"),
        reference=req_str(c, "caseNo"),
        category=_CATEGORY_NAMES.get(opt_str(c, "disputeTypeCode") or "", "其他"),
        title=req_str(c, "caseTitle"),
        status=status,
        centre_status=label,
        region_code=req_str(c, "regionCode"),
        received_at=received,
        parties=tuple(_party(p) for p in as_list(c.get("parties") or [], "parties")),
        closed_at=_time(c, "finishTime"),
        events=tuple(
            EventRecord(at=_time(e, "time") or received, action=req_str(e, "step"),
                        note=opt_str(e, "remark"))
            for e in (as_dict(x, "progress") for x in as_list(c.get("progress") or []))
        ),
        links=links_from(c.get("related"), _LINKS,
                         lambda r: (r.get("system"), r.get("relation")), "refNo"),
        extra=MappingProxyType({
            "mediation_type": MEDIATION_TYPES.get(mediation_type or "", mediation_type),
            "source": SOURCES.get(source or "", source),
            "agreement_reached": opt_bool(c, "agreementReached"),
            "agreement_form": opt_str(c, "agreementForm"),
            "agreement_effective_on": _effective_on(c),
        }),
    ), confirmation_apply_by="JUDICIAL_CONFIRMATION_APPLICATION")


def parse_batch(payload: Any, requested: Sequence[str] = ()) -> list[MatterRecord]:
    with decoding(CENTRE, "batch"):
        body = as_dict(payload)
        missing = as_list(body.get("missing", []), "missing")
        records = [parse_case(item) for item in as_list(body["items"], "items")]
        check_accounted(requested, (r.native_id for r in records), missing)
        return records


def parse_search(payload: Any) -> tuple[list[MatterRecord], int]:
    with decoding(CENTRE, "search"):
        body = as_dict(payload)
        return [parse_case(i) for i in as_list(body["items"], "items")], req_int(body, "total")


# ---- I/O ------------------------------------------------------------------------


class MediationConnector(SearchConnector):
    centre = CENTRE
    idempotent_writes = True  # honours Idempotency-Key

    def __init__(
        self,
        settings: MediationSettings,
        policy: CallPolicy,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"X-Api-Key": settings.api_key.get_secret_value(), "Accept": "application/json"}
        self.http = CentreClient.build(
            CENTRE, settings.base_url, policy, headers=headers, transport=transport
        )

    async def _get(self, params: Mapping[str, str]) -> Any:
        return json_body(CENTRE, await self.http.request("GET", "/api/cases", params=params))

    async def get_many(self, native_ids: Sequence[str]) -> Mapping[str, MatterRecord]:
        ids = unique(i for i in native_ids if "," not in i)  # a comma would split the id
        if not ids:
            return {}
        batches = list(chunks(ids, MAX_BATCH))
        async with self.http.budget():
            pages = await fan_out(self._get(batch_params(chunk)) for chunk in batches)
        wanted = set(ids)
        records = (r for page, chunk in zip(pages, batches, strict=True)
                   for r in parse_batch(page, chunk))
        return {r.native_id: r for r in records if r.native_id in wanted}

    async def _search(
        self, query: ListQuery | None, limit: int, party_ids: Sequence[str] = ()
    ) -> tuple[tuple[MatterRecord, ...], int]:
        size = max(1, min(MAX_PAGE, limit))  # page numbers need one fixed page size

        async def fetch(page: int, _: int) -> tuple[list[MatterRecord], int, int | None]:
            params = search_params(query, party_ids=party_ids, page=page, page_size=size)
            if params is None:
                return [], 0, None
            items, total = parse_search(await self._get(params))
            return items, total, (page + 1 if page * size < total else None)

        return await collect_pages(fetch, 1, limit, size)

    async def _probe(self) -> object:
        return await self._get({"page": "1", "pageSize": "1"})

    async def create(self, draft: MatterDraft) -> MatterRecord:
        async with self.http.budget():
            response = await self.http.request(
                "POST", "/api/cases", json_body=create_body(draft), read_only=True,
                headers={"Idempotency-Key": draft.reference})
        with decoding(CENTRE, "create"):
            return parse_case(created_json(CENTRE, response))

    async def find_created(self, draft: MatterDraft) -> MatterRecord | None:
        return None  # the key settles it: replaying the create returns the first case

    async def add_link(self, native_id: str, link: LinkRecord) -> MatterRecord:
        response = await post_link(self.http, link_path("/api/cases", native_id, "/related"),
                                   json_body=related_entry(link))
        with decoding(CENTRE, "related"):
            return parse_case(created_json(CENTRE, response))
