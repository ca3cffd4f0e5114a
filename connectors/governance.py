"""GOVERNANCE (综治中心 / grid): a Federation v2 subgraph over GraphQL-over-HTTP.

Batch reads go through ``_entities`` with ``GridEvent`` (or ``Resident``) representations,
exactly as a federation router would; searches use ``gridEvents`` with offset paging. Reads
are retryable POSTs, and so is ``reportGridEvent`` (its ``clientMutationId`` makes a repeat
harmless). Any ``errors`` entry is a contract breach: messages dropped, only counted."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import httpx

from onedoor.model import (
    CATEGORIES,
    Centre,
    EventRecord,
    LinkRecord,
    LinkRelation,
    MatterRecord,
    MatterStatus,
    PartyRecord,
    ResidentRecord,
    RiskWarningRecord,
)

from ._centre_writes import send_grid_event
from ._common import (
    as_dict,
    as_list,
    canonical_id,
    category_of,
    chunks,
    collect_pages,
    decoding,
    invert,
    json_body,
    links_from,
    native_filter,
    native_link,
    opt_str,
    opt_time,
    parse_iso,
    req_int,
    req_str,
    transfer_table,
    unique,
)
from ._connector import SearchConnector, fan_out
from .base import ListQuery, MatterDraft
from .errors import CentreBadResponse
from .http import CentreClient
from .settings import CallPolicy, GovernanceSettings

__all__ = ["STATUSES", "GovernanceConnector", "add_referral_request", "entities_request", "parse_entities",
           "parse_event", "parse_resident", "parse_search", "referral_entry", "search_request"]

CENTRE = Centre.GOVERNANCE
MAX_PAGE = 100
MAX_BATCH = 100
NON_DISPUTE_TYPES = ("安全隐患", "社会治安", "环境卫生")  # counted as 其他 in dispute statistics

STATUSES: Mapping[str, tuple[MatterStatus, str]] = {
    "REPORTED": (MatterStatus.REGISTERED, "上报"),
    "VERIFIED": (MatterStatus.REGISTERED, "核实"),
    "OPENED": (MatterStatus.ACCEPTED, "立案"),
    "CANCELLED": (MatterStatus.REJECTED, "注销"),
    "DISPATCHED": (MatterStatus.IN_PROGRESS, "派遣"),
    "HANDLING": (MatterStatus.IN_PROGRESS, "处置"),
    "FEEDBACK": (MatterStatus.IN_PROGRESS, "反馈"),
    "CLOSED": (MatterStatus.CLOSED, "核查结案"),
    "EVALUATED": (MatterStatus.CLOSED, "评价"),
}
_NATIVE_STATUSES = invert(STATUSES)
_DISPATCHED = frozenset(("DISPATCHED", "HANDLING", "FEEDBACK", "CLOSED", "EVALUATED"))
_EVENT_TYPES = {c: (c, *NON_DISPUTE_TYPES) if c == "其他" else (c,) for c in CATEGORIES}
# (kind, system): MEDIATION and PETITION referrals name the system in the kind; a
# transfer (转办/交办) names it in ``system``.
_LINKS: Mapping[tuple[str, str | None], tuple[LinkRelation, Centre]] = {
    ("MEDIATION", None): (LinkRelation.REFERRED_TO, Centre.MEDIATION),
    ("PETITION", None): (LinkRelation.ESCALATED_TO, Centre.PETITIONS),
    **transfer_table({Centre.MEDIATION: "MEDIATION", Centre.LEGAL_SERVICES: "LEGAL_SERVICE",
                      Centre.PETITIONS: "PETITION", Centre.LITIGATION: "COURT"},
                     "TRANSFER_OUT", "TRANSFER_IN", lambda system, kind: (kind, system)),
}

_EVENT_FIELDS = """eventNo title eventType status regionCode gridCode reporter reportedAt
  dueAt closedAt parties { name idNumber phone role } steps { at step note }
  referrals { kind refNo system }"""
_RESIDENT_FIELDS = "idNumber name phone address regionCode gridCode"
_ENTITIES = """query OneDoorEntities($representations: [_Any!]!) {
  _entities(representations: $representations) { ... on %s { %s } } }"""
SEARCH_QUERY = f"""query OneDoorGridEvents($idNumbers: [String!], $regionPrefixes: [String!],
  $statuses: [String!], $eventTypes: [String!], $reportedFrom: String, $reportedTo: String,
  $overdue: Boolean, $offset: Int, $limit: Int) {{
  gridEvents(idNumbers: $idNumbers, regionPrefixes: $regionPrefixes, statuses: $statuses,
    eventTypes: $eventTypes, reportedFrom: $reportedFrom, reportedTo: $reportedTo,
    overdue: $overdue, offset: $offset, limit: $limit) {{ totalCount items {{ {_EVENT_FIELDS} }} }}
}}"""

ADD_REFERRAL = f"""mutation OneDoorAddReferral($input: AddReferralInput!) {{
  addReferral(input: $input) {{ gridEvent {{ {_EVENT_FIELDS} }} }} }}"""
_HEALTH = "query OneDoorHealth { gridEvents(limit: 1) { totalCount } }"
GraphQLRequest = dict[str, Any]


# ---- pure: requests ---------------------------------------------------------


def entities_request(typename: str, key: str, values: Sequence[str]) -> GraphQLRequest:
    fields = _EVENT_FIELDS if typename == "GridEvent" else _RESIDENT_FIELDS
    return {
        "query": _ENTITIES % (typename, fields),
        "variables": {"representations": [{"__typename": typename, key: v} for v in values]},
    }


def referral_entry(link: LinkRecord) -> dict[str, str | None]:
    """One ``ReferralInput``: ``{kind refNo system}``."""
    kind, system = native_link(_LINKS, link)
    return {"kind": kind, "refNo": link.native_id, "system": system}


def add_referral_request(event_no: str, link: LinkRecord) -> GraphQLRequest:
    """``addReferral``: the same referral twice is kept once, so no ``clientMutationId``
    is needed to make a retry harmless."""
    return {"query": ADD_REFERRAL, "variables": {"input": {"eventNo": event_no, **referral_entry(link)}}}


def search_request(
    query: ListQuery | None = None,
    *,
    id_numbers: Sequence[str] = (),
    offset: int = 0,
    limit: int = 20,
) -> GraphQLRequest | None:
    """The ``gridEvents`` operation; ``None`` = nothing can match."""
    variables: dict[str, Any] = {"offset": offset, "limit": limit}
    if id_numbers:
        variables["idNumbers"] = list(id_numbers)
    if query is not None:
        statuses = native_filter(query.statuses, _NATIVE_STATUSES)
        types = native_filter(query.categories, _EVENT_TYPES)
        if query.region_prefixes == () or statuses == () or types == ():
            return None
        if query.region_prefixes:
            variables["regionPrefixes"] = list(query.region_prefixes)
        if statuses:
            variables["statuses"] = list(statuses)
        if types:
            variables["eventTypes"] = list(types)
        if query.received_from is not None:
            variables["reportedFrom"] = query.received_from.isoformat()
        if query.received_to is not None:
            variables["reportedTo"] = query.received_to.isoformat()
        if query.overdue is not None:
            variables["overdue"] = query.overdue
    return {"query": SEARCH_QUERY, "variables": variables}


# ---- pure: responses --------------------------------------------------------


def _data(payload: Any) -> dict[str, Any]:
    body = as_dict(payload)
    errors = body.get("errors")
    if errors:
        raise CentreBadResponse(CENTRE, detail=f"graphql errors: {len(as_list(errors))}")
    return as_dict(body.get("data"), "data")


def parse_event(raw: Any) -> MatterRecord:
    e = as_dict(raw, "GridEvent")
    status, label = STATUSES[req_str(e, "status")]
    event_type = req_str(e, "eventType")
    steps = tuple(
        EventRecord(at=parse_iso(req_str(s, "at")), action=req_str(s, "step"), note=opt_str(s, "note"))
        for s in (as_dict(x, "step") for x in as_list(e["steps"], "steps"))
    )
    return MatterRecord(
        centre=CENTRE,
        native_id=req_str(e, "eventNo"),
        reference=req_str(e, "eventNo"),
        category=category_of(event_type),
        title=req_str(e, "title"),
        status=status,
        centre_status=label,
        region_code=req_str(e, "regionCode"),
        received_at=parse_iso(req_str(e, "reportedAt")),
        parties=tuple(
            PartyRecord(role=req_str(p, "role").upper(), name=req_str(p, "name"),
                        id_number=canonical_id(opt_str(p, "idNumber")), phone=opt_str(p, "phone"))
            for p in (as_dict(x, "party") for x in as_list(e["parties"], "parties"))
        ),
        due_at=opt_time(e, "dueAt"),
        closed_at=opt_time(e, "closedAt"),
        events=steps,
        links=links_from(as_list(e["referrals"]), _LINKS, lambda r: (r.get("kind"), r.get("system")),
                         "refNo"),
        extra=MappingProxyType({
            "grid_code": req_str(e, "gridCode"),
            "event_type": event_type,
            "reporter": req_str(e, "reporter"),
            # The dispatch limit (dueAt) is met by the dispatch (派遣), not by closing.
            "dispatched_at": next((s.at for s in steps if s.action == "派遣"), None),
            "dispatched": req_str(e, "status") in _DISPATCHED,
        }),
    )


def parse_resident(raw: Any) -> ResidentRecord:
    r = as_dict(raw, "Resident")
    return ResidentRecord(
        id_number=canonical_id(req_str(r, "idNumber")) or req_str(r, "idNumber"),
        name=req_str(r, "name"),
        phone=opt_str(r, "phone"),
        address=opt_str(r, "address"),
        region_code=req_str(r, "regionCode"),
        grid_code=opt_str(r, "gridCode"),
    )


WARNINGS_QUERY = """query OneDoorRiskWarnings($regionPrefixes: [String!], $limit: Int) {
  riskWarnings(regionPrefixes: $regionPrefixes, limit: $limit) { warningNo level regionCode summary raisedAt } }"""


def warnings_request(region_prefixes: Sequence[str], limit: int) -> GraphQLRequest:
    return {"query": WARNINGS_QUERY, "variables": {"regionPrefixes": list(region_prefixes), "limit": limit}}


def parse_warnings(payload: Any) -> list[RiskWarningRecord]:
    with decoding(CENTRE, "riskWarnings"):
        return [RiskWarningRecord(warning_no=req_str(w, "warningNo"), level=req_str(w, "level"),
                                  region_code=req_str(w, "regionCode"), summary=req_str(w, "summary"),
                                  raised_at=parse_iso(req_str(w, "raisedAt")))
                for w in (as_dict(x, "RiskWarning") for x in as_list(_data(payload)["riskWarnings"]))]


def parse_entities(payload: Any, expected: int) -> list[Any]:
    """The raw ``_entities`` list, one slot per representation (``None`` = unknown key)."""
    with decoding(CENTRE, "_entities"):
        entities = as_list(_data(payload)["_entities"], "_entities")
        if len(entities) != expected:
            raise ValueError("_entities length differs from representations")
        return entities


def parse_search(payload: Any) -> tuple[list[MatterRecord], int]:
    with decoding(CENTRE, "gridEvents"):
        page = as_dict(_data(payload)["gridEvents"], "gridEvents")
        items = [parse_event(i) for i in as_list(page["items"], "items")]
        return items, req_int(page, "totalCount")


# ---- I/O ------------------------------------------------------------------------


class GovernanceConnector(SearchConnector):
    centre = CENTRE
    idempotent_writes = True  # clientMutationId

    def __init__(
        self,
        settings: GovernanceSettings,
        policy: CallPolicy,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"Accept": "application/graphql-response+json, application/json"}
        self.http = CentreClient.build(
            CENTRE, settings.base_url, policy, headers=headers, transport=transport
        )
        self._path = settings.graphql_path

    async def _post(self, request: GraphQLRequest) -> Any:
        response = await self.http.request("POST", self._path, json_body=request, read_only=True)
        return json_body(CENTRE, response)

    async def _entities(self, typename: str, key: str, values: Sequence[str]) -> list[Any]:
        payload = await self._post(entities_request(typename, key, values))
        return parse_entities(payload, len(values))

    async def get_many(self, native_ids: Sequence[str]) -> Mapping[str, MatterRecord]:
        ids = unique(native_ids)
        if not ids:
            return {}
        async with self.http.budget():
            pages = await fan_out(
                self._entities("GridEvent", "eventNo", c) for c in chunks(ids, MAX_BATCH)
            )
        with decoding(CENTRE, "GridEvent"):
            records = [parse_event(e) for page in pages for e in page if e is not None]
        wanted = set(ids)
        return {r.native_id: r for r in records if r.native_id in wanted}

    async def get_residents(self, id_numbers: Sequence[str]) -> Mapping[str, ResidentRecord]:
        """Base data (实有人口) by resident ID; unknown or unparseable IDs are absent.
        Keys are the caller's spellings."""
        spellings: dict[str, list[str]] = {}
        for raw in id_numbers:
            if (canon := canonical_id(raw)) is not None:
                spellings.setdefault(canon, []).append(raw)
        ids = list(spellings)
        if not ids:
            return {}
        async with self.http.budget():
            pages = await fan_out(
                self._entities("Resident", "idNumber", c) for c in chunks(ids, MAX_BATCH)
            )
        found: dict[str, ResidentRecord] = {}
        with decoding(CENTRE, "Resident"):
            for canon, raw in zip(ids, (e for page in pages for e in page), strict=True):
                if raw is not None:
                    for spelling in spellings[canon]:
                        found[spelling] = parse_resident(raw)
        return found

    async def risk_warnings(self, region_prefixes: Sequence[str], limit: int) -> list[RiskWarningRecord]:
        """Risk warnings (风险预警) raised within the region prefixes, newest first."""
        if not region_prefixes:
            return []
        return parse_warnings(await self._post(warnings_request(region_prefixes, limit)))

    async def _search(
        self, query: ListQuery | None, limit: int, id_numbers: Sequence[str] = ()
    ) -> tuple[tuple[MatterRecord, ...], int]:
        async def fetch(offset: int, size: int) -> tuple[list[MatterRecord], int, int | None]:
            request = search_request(query, id_numbers=id_numbers, offset=offset, limit=size)
            if request is None:
                return [], 0, None
            items, total = parse_search(await self._post(request))
            end = offset + len(items)
            return items, total, (end if end < total else None)

        return await collect_pages(fetch, 0, limit, MAX_PAGE)

    async def _probe(self) -> object:
        return await self._post({"query": _HEALTH})

    async def create(self, draft: MatterDraft) -> MatterRecord:
        referrals = [referral_entry(link) for link in draft.links]
        payload = await send_grid_event(self.http, self._path, draft, _EVENT_FIELDS, referrals)
        with decoding(CENTRE, "reportGridEvent"):
            return parse_event(as_dict(_data(payload)["reportGridEvent"])["gridEvent"])

    async def find_created(self, draft: MatterDraft) -> MatterRecord | None:
        return None  # the clientMutationId settles it: replaying returns the first event

    async def add_link(self, native_id: str, link: LinkRecord) -> MatterRecord:
        async with self.http.budget():
            payload = await self._post(add_referral_request(native_id, link))
        with decoding(CENTRE, "addReferral"):
            event = as_dict(_data(payload)["addReferral"])["gridEvent"]
            if event is None:
                raise ValueError("addReferral: no such event")  # we only link what we have read
            return parse_event(event)

