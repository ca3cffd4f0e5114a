"""LEGAL_SERVICES (公共法律服务中心): REST JSON, snake_case, cursor paging,
OAuth2 bearer tokens (client credentials) from the identity provider.

The token is fetched lazily on the first request (one fetch even under a
burst), renewed by Authlib when it nears expiry, and re-fetched once if the
centre answers 401 (e.g. its signing key rotated).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import warnings
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import httpx
from authlib.deprecate import AuthlibDeprecationWarning  # type: ignore[import-untyped]

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

from ._centre_writes import find_by_reference, send_legal
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
    invert,
    json_body,
    links_from,
    native_link,
    opt_bool,
    opt_str,
    opt_time,
    parse_iso,
    req_int,
    req_str,
    transfer_table,
    unique,
    with_deadlines,
)
from ._connector import SearchConnector, fan_out
from ._writes import created_json, link_path, post_link
from .base import ListQuery, MatterDraft
from .errors import CentreBadResponse, CentreError, CentreUnavailable
from .http import CentreClient, client_options
from .settings import CallPolicy, LegalSettings

# Authlib warns that plain httpx is deprecated in favour of httpx2; we keep httpx on purpose (one
# client library, MockTransport in tests), so the import-time notice is silenced (-W error runs).
with warnings.catch_warnings():
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.base_client import OAuthError  # type: ignore[import-untyped]
    from authlib.integrations.httpx_client import (  # type: ignore[import-untyped]
        AsyncOAuth2Client,
    )

if not issubclass(AsyncOAuth2Client, httpx.AsyncClient):  # pragma: no cover - env guard
    raise ImportError("Authlib picked up httpx2; OneDoor connectors need plain httpx")

__all__ = [
    "STATUSES", "LegalConnector", "batch_params", "link_entry", "parse_application", "parse_batch",
    "parse_search", "search_params",
]

CENTRE = Centre.LEGAL_SERVICES
MAX_PAGE = 100
MAX_BATCH = 50
PATH = "/v1/applications"

STATUSES: Mapping[str, tuple[MatterStatus, str]] = {
    "submitted": (MatterStatus.REGISTERED, "已提交"),
    "under_review": (MatterStatus.IN_PROGRESS, "审查中"),
    "approved": (MatterStatus.ACCEPTED, "已批准"),
    "assigned": (MatterStatus.IN_PROGRESS, "已指派"),
    "closed": (MatterStatus.CLOSED, "已结案"),
    "rejected": (MatterStatus.REJECTED, "不予批准"),
    "terminated": (MatterStatus.TERMINATED, "已终止"),
}
_NATIVE_STATUSES = invert(STATUSES)
_LINKS = {
    ("court", "represents_in"): (LinkRelation.LEGAL_AID_FOR, Centre.LITIGATION),
    # transfers (转办/交办): the other centre as this one names it, then to / from
    **transfer_table({Centre.MEDIATION: "mediation", Centre.PETITIONS: "petition", Centre.LITIGATION: "court",
                      Centre.GOVERNANCE: "grid"}, "transferred_to", "transferred_from", lambda s, t: (s, t)),
}

Params = list[tuple[str, str]]
_FILTERS = FilterSpelling(
    region="region_prefix", status="status", category="case_category",
    received_from="submitted_from", received_to="submitted_to", overdue="overdue",
    statuses=_NATIVE_STATUSES, moment=dt.datetime.isoformat)


# ---- pure: requests ---------------------------------------------------------


def search_params(
    query: ListQuery | None = None,
    *,
    id_numbers: Sequence[str] = (),
    limit: int = 20,
    cursor: str | None = None,
) -> Params | None:
    """Query for ``GET /v1/applications`` (repeated keys); ``None`` = nothing can match."""
    params: Params = [("id_number", i) for i in id_numbers]
    params.append(("limit", str(limit)))
    if cursor is not None:
        params.append(("cursor", cursor))
    if query is None:
        return params
    filters = filter_params(query, _FILTERS)
    return None if filters is None else params + filters


def batch_params(application_nos: Sequence[str]) -> Params:
    return [("application_no", n) for n in application_nos]


def link_entry(link: LinkRecord) -> dict[str, str]:
    """One ``links`` entry: ``{"target_system", "target_id", "type"}``."""
    system, kind = native_link(_LINKS, link)
    return {"target_system": system, "target_id": link.native_id, "type": kind}


# ---- pure: responses --------------------------------------------------------


def _party(raw: Any, role: str) -> PartyRecord:
    p = as_dict(raw, "party")
    org_code = opt_str(p, "org_code")
    id_number = opt_str(p, "id_number")
    return PartyRecord(
        role=role,
        name=req_str(p, "name"),
        kind=PartyKind.ORGANISATION if org_code and not id_number else PartyKind.PERSON,
        id_number=canonical_id(id_number),
        phone=opt_str(p, "phone"),
        org_code=org_code,
        address=opt_str(p, "address"),
    )


def parse_application(raw: Any) -> MatterRecord:
    a = as_dict(raw, "application")
    status, label = STATUSES[req_str(a, "status")]
    history = [(parse_iso(req_str(h, "at")), req_str(h, "event"), opt_str(h, "note"))
               for h in (as_dict(x, "history") for x in as_list(a.get("history") or []))]
    # The timeline speaks Chinese like every other centre's; the native codes decide below.
    events = tuple(EventRecord(at=at, action=STATUSES[code][1] if code in STATUSES else code, note=note)
                   for at, code, note in history)
    # Art.43: the 7-day decision is met by approved/rejected, the 3-day assignment by assigned
    # (``decision_due`` is the office's own date and is not read: onedoor.deadlines counts them).
    decision = next(((at, code) for at, code, _ in history if code in ("approved", "rejected")), None)
    parties = [_party(a["applicant"], "APPLICANT")]
    parties += [_party(p, "OTHER_PARTY") for p in as_list(a.get("other_parties") or [])]
    return with_deadlines(MatterRecord(
        centre=CENTRE,
        native_id=req_str(a, "application_no"),
        reference=req_str(a, "application_no"),
        category=category_of(opt_str(a, "case_category")),
        title=req_str(a, "subject"),
        status=status,
        centre_status=label,
        region_code=req_str(a, "region_code"),
        received_at=parse_iso(req_str(a, "submitted_at")),
        parties=tuple(parties),
        closed_at=opt_time(a, "closed_at"),
        events=events,
        links=links_from(a.get("links"), _LINKS,
                         lambda r: (r.get("target_system"), r.get("type")), "target_id"),
        extra=MappingProxyType({
            "service_type": req_str(a, "service_type").upper(),
            "decided_at": None if decision is None else decision[0],
            "granted": decision is not None and decision[1] == "approved",
            "assigned_at": next((at for at, code, _ in history if code == "assigned"), None),
            "is_minor": bool(opt_bool(a, "is_minor")),
            "external_ref": opt_str(a, "external_ref"),
        }),
    ), decision_due_at="LEGAL_AID_DECISION", assignment_due_at="LEGAL_AID_ASSIGNMENT")


def parse_batch(payload: Any, requested: Sequence[str] = ()) -> list[MatterRecord]:
    with decoding(CENTRE, "batch"):
        body = as_dict(payload)
        records = [parse_application(i) for i in as_list(body["data"], "data")]
        check_accounted(requested, (r.native_id for r in records),
                        as_list(body.get("not_found", []), "not_found"))
        return records


def parse_search(payload: Any) -> tuple[list[MatterRecord], int, str | None]:
    with decoding(CENTRE, "search"):
        body = as_dict(payload)
        items = [parse_application(i) for i in as_list(body["data"], "data")]
        return items, req_int(body, "total_count"), opt_str(body, "next_cursor")


# ---- I/O ------------------------------------------------------------------------


class _TokenAuth:
    """Lazy, single-flight client-credentials token for :class:`CentreClient`."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._lock = asyncio.Lock()

    async def prepare(self) -> None:
        if self._client.token:
            return
        async with self._lock:
            if not self._client.token:
                await self._fetch()

    async def refresh(self) -> None:
        stale = self._client.token
        async with self._lock:
            if self._client.token is stale:  # another request may have renewed it already
                await self._fetch()

    async def _fetch(self) -> None:
        try:
            await self._client.fetch_token()
        except (ValueError, KeyError, TypeError) as exc:
            raise CentreBadResponse(CENTRE, detail=f"token: {type(exc).__name__}") from exc
        except Exception as exc:
            if (error := self.translate(exc)) is not None:
                raise error from exc
            raise

    def translate(self, exc: Exception) -> CentreError | None:
        if isinstance(exc, OAuthError):  # e.g. invalid_client: configuration, not a blip
            return CentreUnavailable(CENTRE, detail=f"token refused: {exc.error}")
        return None


class LegalConnector(SearchConnector):
    centre = CENTRE
    idempotent_writes = False  # no key: a create is sent once, a lost answer is searched for

    def __init__(
        self,
        settings: LegalSettings,
        policy: CallPolicy,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        options = client_options(
            settings.base_url, policy, headers={"Accept": "application/json"}, transport=transport
        )
        client = AsyncOAuth2Client(
            client_id=settings.client_id,
            client_secret=settings.client_secret.get_secret_value(),
            scope=settings.scope,
            token_endpoint=settings.token_url,
            grant_type="client_credentials",
            leeway=10,
            **options,
        )
        self.http = CentreClient(CENTRE, policy, client, auth=_TokenAuth(client))

    async def _get(self, params: Params) -> Any:
        return json_body(CENTRE, await self.http.request("GET", PATH, params=params))

    async def get_many(self, native_ids: Sequence[str]) -> Mapping[str, MatterRecord]:
        ids = unique(native_ids)
        if not ids:
            return {}
        batches = list(chunks(ids, MAX_BATCH))
        async with self.http.budget():
            pages = await fan_out(self._get(batch_params(c)) for c in batches)
        wanted = set(ids)
        return {r.native_id: r for p, c in zip(pages, batches, strict=True)
                for r in parse_batch(p, c) if r.native_id in wanted}

    async def _search(
        self, query: ListQuery | None, limit: int, id_numbers: Sequence[str] = ()
    ) -> tuple[tuple[MatterRecord, ...], int]:
        async def fetch(cursor: str | None, size: int) -> tuple[list[MatterRecord], int, Any]:
            params = search_params(query, id_numbers=id_numbers, limit=size, cursor=cursor)
            if params is None:
                return [], 0, None
            return parse_search(await self._get(params))

        return await collect_pages(fetch, None, limit, MAX_PAGE)

    async def _probe(self) -> object:
        return await self._get([("limit", "1")])

    async def create(self, draft: MatterDraft) -> MatterRecord:
        links = [link_entry(link) for link in draft.links]
        return parse_batch({"data": [await send_legal(self.http, PATH, draft, links)]})[0]

    async def find_created(self, draft: MatterDraft) -> MatterRecord | None:
        return await find_by_reference(self, draft)

    async def add_link(self, native_id: str, link: LinkRecord) -> MatterRecord:
        response = await post_link(self.http, link_path(PATH, native_id, "/links"), json_body=link_entry(link))
        return parse_batch({"data": [created_json(CENTRE, response)]})[0]
