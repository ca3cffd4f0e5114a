"""LITIGATION (诉讼服务中心): REST JSON with epoch-millisecond times, a
``POST /cases:batchGet`` batch read, page tokens and a token-bucket rate
limit (429 + ``Retry-After``), which the shared client retries within budget.

``batchGet`` is a POST but only reads, so it is sent as retryable.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import httpx

from onedoor.model import (
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
    category_of,
    check_accounted,
    chunks,
    collect_pages,
    decoding,
    filter_params,
    from_epoch_ms,
    invert,
    json_body,
    links_from,
    native_link,
    opt_str,
    req_int,
    req_str,
    to_cst,
    transfer_table,
    unique,
)
from ._connector import SearchConnector, fan_out
from ._writes import created_json, link_path, post_link
from .base import ListQuery, MatterDraft
from .http import CentreClient
from .settings import CallPolicy, LitigationSettings

__all__ = [
    "STATES",
    "LitigationConnector",
    "batch_body",
    "create_body",
    "parse_batch",
    "parse_case",
    "parse_search",
    "related_entry",
    "search_params",
]

CENTRE = Centre.LITIGATION
MAX_PAGE = 100
MAX_BATCH = 100

STATES: Mapping[str, tuple[MatterStatus, str]] = {
    "FILED": (MatterStatus.ACCEPTED, "已立案"),
    "ACCEPTED": (MatterStatus.ACCEPTED, "已受理"),
    "TRIAL": (MatterStatus.IN_PROGRESS, "审理中"),
    "MEDIATED": (MatterStatus.CLOSED, "调解结案"),
    "JUDGED": (MatterStatus.CLOSED, "已判决"),
    "CLOSED": (MatterStatus.CLOSED, "已结案"),
    "WITHDRAWN": (MatterStatus.TERMINATED, "已撤诉"),
    "DISMISSED": (MatterStatus.REJECTED, "驳回起诉"),
}
_NATIVE_STATES = invert(STATES)
# (kind, system): the older kinds name the other system themselves and carry no
# ``system``; a transfer (移送) names it in ``system``.
_LINKS: Mapping[tuple[str, str | None], tuple[LinkRelation, Centre]] = {
    ("CONFIRMED_AGREEMENT", None): (LinkRelation.CONFIRMS, Centre.MEDIATION),
    ("LEGAL_AID", None): (LinkRelation.LEGAL_AID, Centre.LEGAL_SERVICES),
    ("PRE_LITIGATION_MEDIATION", None): (LinkRelation.PRE_LITIGATION_MEDIATION, Centre.MEDIATION),
    ("FAILED_MEDIATION", None): (LinkRelation.LITIGATED_FROM, Centre.MEDIATION),  # 调解不成起诉
    **transfer_table({Centre.MEDIATION: "MEDIATION", Centre.LEGAL_SERVICES: "LEGAL_SERVICE",
                      Centre.PETITIONS: "PETITION", Centre.GOVERNANCE: "GRID"},
                     "TRANSFER_OUT", "TRANSFER_IN", lambda system, kind: (kind, system)),
}

Params = list[tuple[str, str]]


# ---- pure: requests ---------------------------------------------------------


def _ms(value: dt.datetime) -> str:
    return str(int(to_cst(value).timestamp() * 1000))


_FILTERS = FilterSpelling(
    region="regionPrefix", status="state", category="cause", received_from="filedFrom",
    received_to="filedTo", overdue="overdue", statuses=_NATIVE_STATES, moment=_ms)


def search_params(
    query: ListQuery | None = None,
    *,
    id_numbers: Sequence[str] = (),
    page_size: int = 20,
    page_token: str | None = None,
) -> Params | None:
    """Query for ``GET /cases``; ``None`` = nothing can match."""
    params: Params = [("partyIdNo", i) for i in id_numbers]
    params.append(("pageSize", str(page_size)))
    if page_token is not None:
        params.append(("pageToken", page_token))
    if query is None:
        return params
    filters = filter_params(query, _FILTERS)
    return None if filters is None else params + filters


def batch_body(case_numbers: Sequence[str]) -> dict[str, list[str]]:
    return {"caseNumbers": list(case_numbers)}


def related_entry(link: LinkRecord) -> dict[str, str]:
    """One ``related`` entry: ``{"kind", "ref"}`` plus ``system`` where the kind needs it."""
    kind, system = native_link(_LINKS, link)
    return {"kind": kind, "ref": link.native_id} | ({"system": system} if system else {})


def create_body(draft: MatterDraft) -> dict[str, Any]:
    """``POST /cases`` (AIP-155): ``requestId`` makes a repeat return the first case.
    A filing at the window starts as pre-litigation mediation (诉前调) unless asked."""
    people = [(draft.applicant, "PLAINTIFF"), *((p, "DEFENDANT") for p in draft.others)]
    return {"requestId": draft.reference, "case": {
        "cause": draft.category, "title": draft.title, "regionCode": draft.region_code,
        "caseType": "民初" if draft.kind == "FIRST_INSTANCE" else "诉前调",
        "description": draft.description,
        "parties": [{"role": role, "name": p.name, "idNo": p.id_number, "tel": p.phone,
                     "orgCode": p.org_code if p.kind is PartyKind.ORGANISATION else None}
                    for p, role in people],
        "related": [related_entry(link) for link in draft.links]}}


# ---- pure: responses --------------------------------------------------------


def _opt_ms(obj: Mapping[str, Any], key: str) -> dt.datetime | None:
    value = obj.get(key)
    return None if value is None else from_epoch_ms(req_int(obj, key))


def _party(raw: Any) -> PartyRecord:
    p = as_dict(raw, "party")
    id_no = opt_str(p, "idNo")
    org_code = opt_str(p, "orgCode") or opt_str(p, "creditCode")
    return PartyRecord(
        role=req_str(p, "role"),
        name=req_str(p, "name"),
        kind=PartyKind.ORGANISATION if org_code and not id_no else PartyKind.PERSON,
        id_number=canonical_id(id_no),
        phone=opt_str(p, "tel"),
        org_code=org_code,
        address=opt_str(p, "address"),
    )


def parse_case(raw: Any) -> MatterRecord:
    c = as_dict(raw, "case")
    status, label = STATES[req_str(c, "state")]
    court = as_dict(c["court"], "court")
    cause = opt_str(c, "cause")
    return MatterRecord(
        centre=CENTRE,
        native_id=req_str(c, "caseNumber"),
        reference=req_str(c, "caseNumber"),
        category=category_of(cause),
        title=req_str(c, "title"),
        status=status,
        centre_status=label,
        region_code=req_str(c, "regionCode"),
        received_at=from_epoch_ms(req_int(c, "filedAt")),
        parties=tuple(_party(p) for p in as_list(c.get("parties") or [], "parties")),
        due_at=_opt_ms(c, "deadlineAt"),
        closed_at=_opt_ms(c, "closedAt"),
        events=tuple(
            EventRecord(at=from_epoch_ms(req_int(d, "ts")), action=req_str(d, "entry"))
            for d in (as_dict(x, "docket") for x in as_list(c.get("docket") or []))
        ),
        links=links_from(c.get("related"), _LINKS, lambda r: (r.get("kind"), r.get("system")), "ref"),
        extra=MappingProxyType({
            "case_number": req_str(c, "caseNumber"),
            "court": req_str(court, "name"),
            "court_code": req_str(court, "code"),
            "case_type": opt_str(c, "caseType"),
            "procedure": opt_str(c, "procedure"),
            "cause": cause,
        }),
    )


def parse_batch(payload: Any, requested: Sequence[str] = ()) -> list[MatterRecord]:
    with decoding(CENTRE, "batch"):
        body = as_dict(payload)
        missing = as_list(body.get("notFound", []), "notFound")
        records = [parse_case(c) for c in as_list(body["cases"], "cases")]
        check_accounted(requested, (r.native_id for r in records), missing)
        return records


def parse_search(payload: Any) -> tuple[list[MatterRecord], int, str | None]:
    with decoding(CENTRE, "search"):
        body = as_dict(payload)
        items = [parse_case(c) for c in as_list(body["cases"], "cases")]
        return items, req_int(body, "totalSize"), opt_str(body, "nextPageToken")


# ---- I/O ------------------------------------------------------------------------


class LitigationConnector(SearchConnector):
    centre = CENTRE
    idempotent_writes = True  # requestId in the body

    def __init__(
        self,
        settings: LitigationSettings,
        policy: CallPolicy,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"X-Client-Id": settings.client_id, "Accept": "application/json"}
        self.http = CentreClient.build(
            CENTRE, settings.base_url, policy, headers=headers, transport=transport
        )

    async def _batch(self, case_numbers: Sequence[str]) -> list[MatterRecord]:
        response = await self.http.request(
            "POST", "/cases:batchGet", json_body=batch_body(case_numbers), read_only=True
        )
        return parse_batch(json_body(CENTRE, response), case_numbers)

    async def _get(self, params: Params) -> Any:
        return json_body(CENTRE, await self.http.request("GET", "/cases", params=params))

    async def get_many(self, native_ids: Sequence[str]) -> Mapping[str, MatterRecord]:
        ids = unique(native_ids)
        if not ids:
            return {}
        async with self.http.budget():
            pages = await fan_out(self._batch(chunk) for chunk in chunks(ids, MAX_BATCH))
        wanted = set(ids)
        return {r.native_id: r for page in pages for r in page if r.native_id in wanted}

    async def _search(
        self, query: ListQuery | None, limit: int, id_numbers: Sequence[str] = ()
    ) -> tuple[tuple[MatterRecord, ...], int]:
        async def fetch(token: str | None, size: int) -> tuple[list[MatterRecord], int, Any]:
            params = search_params(query, id_numbers=id_numbers, page_size=size, page_token=token)
            if params is None:
                return [], 0, None
            return parse_search(await self._get(params))

        return await collect_pages(fetch, None, limit, MAX_PAGE)

    async def _probe(self) -> object:
        return await self._get([("pageSize", "1")])

    async def create(self, draft: MatterDraft) -> MatterRecord:
        async with self.http.budget():
            response = await self.http.request("POST", "/cases", json_body=create_body(draft),
                                               read_only=True)
        with decoding(CENTRE, "create"):
            return parse_case(created_json(CENTRE, response))

    async def find_created(self, draft: MatterDraft) -> MatterRecord | None:
        return None  # the requestId settles it: replaying the create returns the first case

    async def add_link(self, native_id: str, link: LinkRecord) -> MatterRecord:
        """AIP-136 custom method ``POST /cases/{caseNumber}:addRelated``."""
        response = await post_link(self.http, link_path("/cases", native_id, ":addRelated"),
                                   json_body={"related": related_entry(link)})
        with decoding(CENTRE, "addRelated"):
            return parse_case(created_json(CENTRE, response))

