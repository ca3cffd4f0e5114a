"""PETITIONS (信访中心): legacy XML, pinyin-initial tags, ``YYYYMMDD``, no batch read.

Quirks kept here: IDs stored as typed (some legacy 15-digit, some lowercase ``x``), so a
citizen search sends every spelling and the mapping returns the canonical form; ``get_many``
fans out one request per id, bounded by the centre's semaphore; date filters are dates
(``ksrq``/``jsrq``) made exact by the optional times ``kssj``/``jssj``. Whistle-blower flags
(信访工作条例 Art.30) travel in ``extra["whistleblower_flags"]``, aligned with ``parties``, so
the gateway can mask them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from xml.etree.ElementTree import Element, ParseError

import httpx
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from onedoor.identifiers import legacy_variants
from onedoor.model import (
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

from ._centre_writes import gldj_xml, send_petition
from ._common import (
    FilterSpelling,
    canonical_id,
    category_of,
    collect_offset_pages,
    decoding,
    expect_status,
    filter_params,
    invert,
    native_link,
    to_cst,
    transfer_table,
    unique,
    with_deadlines,
)
from ._connector import SearchConnector, fan_out
from ._writes import find_by_reference, post_link
from .base import ListQuery, MatterDraft
from .errors import CentreBadResponse
from .http import CentreClient
from .settings import CallPolicy, PetitionsSettings

__all__ = ["STATUSES", "PetitionsConnector", "gl_entry", "parse_item", "parse_record", "parse_search",
           "parse_xml", "search_params"]

CENTRE = Centre.PETITIONS
MAX_PAGE = 50

STATUSES: Mapping[str, tuple[MatterStatus, str]] = {
    "01": (MatterStatus.REGISTERED, "登记"),
    "02": (MatterStatus.ACCEPTED, "受理"),
    "03": (MatterStatus.TRANSFERRED, "转送"),
    "04": (MatterStatus.TRANSFERRED, "交办"),
    "05": (MatterStatus.IN_PROGRESS, "办理中"),
    "06": (MatterStatus.CLOSED, "办结"),
    "07": (MatterStatus.REJECTED, "不予受理"),
    "08": (MatterStatus.IN_PROGRESS, "复查中"),  # a review (条例 Art.35) reopens a handled petition
    "09": (MatterStatus.IN_PROGRESS, "复核中"),  # a second review (Art.36)
}
_NATIVE_STATUSES = invert(STATUSES)
# 复查 requested / decided, 复核 requested / decided (信访工作条例 Art.35, 36): dates
_REVIEWS = (("fcsqrq", "review_requested_on"), ("fcyjrq", "review_decided_on"),
            ("fhsqrq", "second_review_requested_on"), ("fhyjrq", "second_review_decided_on"))
_UNDER_REVIEW = frozenset({"复查中", "复核中"})
CHANNELS = {"1": "ONLINE", "2": "LETTER", "3": "PHONE", "4": "FAX", "5": "VISIT"}
PETITION_TYPES = {"JYYJ": "SUGGESTION", "JJKG": "REPORT", "SSQJ": "COMPLAINT"}
_LINKS = {
    ("TJ", "ZXF"): (LinkRelation.ESCALATED_FROM, Centre.MEDIATION),
    ("WG", "WGSJ"): (LinkRelation.ESCALATED_FROM, Centre.GOVERNANCE),
    # transfers: <xt> the other system (调解, 法律服务, 法院, 网格), <lx> ZC 转出 / ZR 转入
    **transfer_table({Centre.MEDIATION: "TJ", Centre.LEGAL_SERVICES: "FL", Centre.LITIGATION: "FY",
                      Centre.GOVERNANCE: "WG"}, "ZC", "ZR", lambda xt, lx: (xt, lx)),
}
_XML = {"Content-Type": "application/xml; charset=utf-8"}

Params = list[tuple[str, str]]


# ---- pure: requests ---------------------------------------------------------


def _day(value: dt.datetime) -> str:
    return to_cst(value).strftime("%Y%m%d")


_FILTERS = FilterSpelling(
    region="qhdm", status="zt", category="nrfl", received_from="ksrq", received_to="jsrq",
    overdue="cq", statuses=_NATIVE_STATUSES, moment=_day, yes_no=("1", "0"))


def search_params(
    query: ListQuery | None = None,
    *,
    id_numbers: Sequence[str] = (),
    start: int = 0,
    rows: int = 20,
) -> Params | None:
    """Query for ``GET /xf/query``; every stored spelling of each canonical ID
    is sent, since ``sfzh`` matches the stored string exactly. ``None`` =
    nothing can match."""
    params: Params = [("sfzh", v) for i in id_numbers for v in legacy_variants(i)]
    params += [("start", str(start)), ("rows", str(rows))]
    if query is None:
        return params
    filters = filter_params(query, _FILTERS)
    if filters is None:
        return None
    # ksrq/jsrq are dates; kssj/jssj (HHMMSS) make the bounds exact to the second, as every
    # other centre's are (a bare jsrq would take in the rest of that day).
    for name, moment in (("kssj", query.received_from), ("jssj", query.received_to)):
        if moment is not None:
            filters.append((name, to_cst(moment).strftime("%H%M%S")))
    return params + filters


def gl_entry(link: LinkRecord) -> tuple[str, str, str]:
    """One ``<gl>`` as ``(xt, bh, lx)``."""
    xt, lx = native_link(_LINKS, link)
    return xt, link.native_id, lx


# ---- pure: responses --------------------------------------------------------


def parse_xml(content: bytes) -> Element:
    """Parse untrusted XML (entity expansion and external references refused)."""
    try:
        root: Element = fromstring(content)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise CentreBadResponse(CENTRE, detail=f"invalid XML: {type(exc).__name__}") from exc
    return root


def _text(el: Element, tag: str) -> str | None:
    child = el.find(tag)
    text = (child.text or "").strip() if child is not None else ""
    return text or None  # empty elements mean null


def _req(el: Element, tag: str) -> str:
    text = _text(el, tag)
    if text is None:
        raise ValueError(f"<{tag}> missing")
    return text


def _digits(text: str, n: int) -> str:
    # strptime costs ~20 µs a call and lists parse thousands of dates.
    if len(text) != n or not text.isdigit():
        raise ValueError(f"expected {n} digits")
    return text


def _date(text: str | None) -> dt.date | None:
    if text is None:
        return None
    d = _digits(text, 8)
    return dt.date(int(d[:4]), int(d[4:6]), int(d[6:]))


def _at(day: str, hhmmss: str | None) -> dt.datetime:
    d, t = _digits(day, 8), _digits(hhmmss or "000000", 6)
    return dt.datetime(int(d[:4]), int(d[4:6]), int(d[6:]), int(t[:2]), int(t[2:4]), int(t[4:]),
                       tzinfo=CST)


def _parties(x: Element) -> tuple[tuple[PartyRecord, ...], tuple[bool, ...]]:
    parties: list[PartyRecord] = []
    flags: list[bool] = []
    for el in x.findall("xfr"):
        parties.append(PartyRecord(
            role="PETITIONER", name=_req(el, "xm"), id_number=canonical_id(_text(el, "sfzh")),
            phone=_text(el, "dh"), address=_text(el, "dz"),
        ))
        flags.append(_text(el, "jm") == "1")
    for el in x.findall("bfyr"):
        raw_id = _text(el, "sfzh")
        parties.append(PartyRecord(
            role="RESPONDENT", name=_req(el, "xm"),
            kind=PartyKind.PERSON if raw_id else PartyKind.ORGANISATION,
            id_number=canonical_id(raw_id), phone=_text(el, "dh"), address=_text(el, "dz"),
        ))
        flags.append(False)
    return tuple(parties), tuple(flags)


def _links(x: Element) -> tuple[LinkRecord, ...]:
    links = []
    for gl in x.findall("glxx/gl"):
        known = _LINKS.get((_text(gl, "xt") or "", _text(gl, "lx") or ""))
        if known is not None:
            links.append(LinkRecord(known[0], known[1], _req(gl, "bh")))
    return tuple(links)


def parse_record(x: Element) -> MatterRecord:
    """One ``<xfjl>`` → :class:`MatterRecord`."""
    if x.tag != "xfjl":
        raise ValueError(f"unexpected <{x.tag}>")
    status, label = STATUSES[_req(x, "zt")]
    closed = _date(_text(x, "bjrq"))
    accepted = _date(_text(x, "slrq"))
    extension = _text(x, "yqts")  # 延期天数: an approved Art.34 extension
    parties, flags = _parties(x)
    channel = _req(x, "xfxs")
    petition_type = _req(x, "xflb")
    # The office's own slqx/blqx are not read: the deadlines are counted from slrq/bjrq and the
    # extension by onedoor.deadlines (holidays, Art.34 extension), as dueAt and overdue need.
    return with_deadlines(MatterRecord(
        centre=CENTRE,
        native_id=_req(x, "xfbh"),
        reference=_req(x, "xfbh"),
        category=category_of(_text(x, "nrfl")),
        title=_req(x, "bt"),
        status=status,
        centre_status=label,
        region_code=_req(x, "qhdm"),
        received_at=_at(_req(x, "djrq"), _text(x, "djsj")),
        parties=parties,
        # Under review the matter is open again; ``closed_on`` keeps the handling opinion's date.
        closed_at=None if closed is None or label in _UNDER_REVIEW else _at(closed.strftime("%Y%m%d"), None),
        events=tuple(
            EventRecord(at=_at(_req(jl, "rq"), _text(jl, "sj")), action=_req(jl, "dz"),
                        note=_text(jl, "sm"))
            for jl in x.findall("lcjl/jl")
        ),
        links=_links(x),
        extra=MappingProxyType({
            "channel": CHANNELS.get(channel, channel),
            "petition_type": PETITION_TYPES.get(petition_type, petition_type),
            "accepted_on": accepted,
            "closed_on": closed,
            "extension_days": int(_digits(extension, len(extension))) if extension else 0,
            **{name: _date(_text(x, tag)) for tag, name in _REVIEWS},
            "whistleblower_flags": flags,
            "external_ref": _text(x, "wbbh"),
        }),
    ), acceptance_due_at="PETITION_ACCEPTANCE", handling_due_at="PETITION_HANDLING",
        review_due_at="PETITION_REVIEW", second_review_due_at="PETITION_SECOND_REVIEW",
        review_request_by="PETITION_REVIEW_REQUEST", second_review_request_by="PETITION_SECOND_REVIEW_REQUEST")


def parse_item(content: bytes) -> MatterRecord:
    with decoding(CENTRE, "item"):
        return parse_record(parse_xml(content))


def parse_search(content: bytes) -> tuple[list[MatterRecord], int]:
    root = parse_xml(content)
    with decoding(CENTRE, "search"):
        if root.tag != "result":
            raise ValueError(f"unexpected <{root.tag}>")
        return [parse_record(x) for x in root.findall("xfjl")], int(_req(root, "total"))


def _is_not_found(response: httpx.Response) -> bool:
    if response.status_code != 404:
        return False
    root = parse_xml(response.content)
    return root.tag == "error" and _text(root, "code") == "NOT_FOUND"


# ---- I/O ------------------------------------------------------------------------


class PetitionsConnector(SearchConnector):
    centre = CENTRE
    idempotent_writes = False  # no key: a registration is sent once, a lost answer searched for
    citizens_per_search = 20  # each ID travels as up to three spellings

    def __init__(
        self,
        settings: PetitionsSettings,
        policy: CallPolicy,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"Accept": "application/xml"}
        self.http = CentreClient.build(
            CENTRE, settings.base_url, policy, headers=headers, transport=transport
        )

    async def _one(self, xfbh: str) -> MatterRecord | None:
        response = await self.http.request("GET", "/xf/item", params={"xfbh": xfbh})
        if _is_not_found(response):
            return None
        expect_status(CENTRE, response)
        return parse_item(response.content)

    async def _query(self, params: Params) -> tuple[list[MatterRecord], int]:
        response = await self.http.request("GET", "/xf/query", params=params)
        expect_status(CENTRE, response)
        return parse_search(response.content)

    async def get_many(self, native_ids: Sequence[str]) -> Mapping[str, MatterRecord]:
        ids = unique(native_ids)
        async with self.http.budget():
            found = await fan_out(self._one(i) for i in ids)
        return {r.native_id: r for r in found if r is not None and r.native_id in ids}

    async def _search(
        self, query: ListQuery | None, limit: int, id_numbers: Sequence[str] = ()
    ) -> tuple[tuple[MatterRecord, ...], int]:
        async def fetch(start: int, size: int) -> tuple[list[MatterRecord], int, int | None]:
            params = search_params(query, id_numbers=id_numbers, start=start, rows=size)
            if params is None:
                return [], 0, None
            items, total = await self._query(params)
            end = start + len(items)
            return items, total, (end if end < total else None)

        return await collect_offset_pages(fetch, limit, MAX_PAGE)

    async def _probe(self) -> object:
        return await self._query([("start", "0"), ("rows", "1")])

    async def create(self, draft: MatterDraft) -> MatterRecord:
        return parse_item(await send_petition(self.http, draft, [gl_entry(link) for link in draft.links]))

    async def find_created(self, draft: MatterDraft) -> MatterRecord | None:
        return await find_by_reference(self, draft)

    async def add_link(self, native_id: str, link: LinkRecord) -> MatterRecord:
        response = await post_link(self.http, "/xf/gl", content=gldj_xml(native_id, *gl_entry(link)),
                                   headers=_XML)
        expect_status(CENTRE, response, 200, 201)  # 404 <error>NOT_FOUND: we only link what we read
        return parse_item(response.content)
