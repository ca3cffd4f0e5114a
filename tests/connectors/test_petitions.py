from __future__ import annotations

import asyncio
import datetime as dt

import httpx
import pytest

from connectors.base import ListQuery
from connectors.errors import CentreBadResponse
from connectors.petitions import PetitionsConnector, parse_item, parse_search, search_params
from connectors.settings import PetitionsSettings
from onedoor.model import CST, Centre, LinkRelation, MatterStatus, PartyKind

from .conftest import FAST, raw

A = "632301198001011237"
C = "63232119900303001X"
D = "63232219680808005X"


def test_parse_item_normalises_legacy_ids_and_flags_whistleblowers() -> None:
    record = parse_item(raw("petitions_item.xml"))
    assert record.native_id == "XF6323012024000123"
    assert record.status is MatterStatus.IN_PROGRESS and record.centre_status == "办理中"
    assert record.received_at == dt.datetime(2024, 3, 5, 9, 30, tzinfo=CST)
    assert [p.id_number for p in record.parties] == [A, C, None]  # 15-digit and lowercase x
    assert record.parties[2].kind is PartyKind.ORGANISATION
    assert record.parties[1].phone is None  # empty element means null
    assert record.extra["whistleblower_flags"] == (True, False, False)
    assert record.extra["channel"] == "VISIT" and record.extra["petition_type"] == "REPORT"
    assert record.extra["acceptance_due_at"] == dt.datetime(2024, 3, 21, tzinfo=CST)
    assert record.due_at == record.extra["handling_due_at"] == dt.datetime(2024, 5, 10, tzinfo=CST)
    assert {(lk.relation, lk.centre) for lk in record.links} == {
        (LinkRelation.ESCALATED_FROM, Centre.MEDIATION),
        (LinkRelation.ESCALATED_FROM, Centre.GOVERNANCE),
    }
    assert [(e.action, e.note) for e in record.events] == [("登记", None), ("受理", "依法受理")]


def test_parse_search_total_and_order() -> None:
    items, total = parse_search(raw("petitions_search.xml"))
    assert total == 57
    assert [r.native_id for r in items] == ["XF6323012024000124", "XF6323012024000123"]
    registered, closed = items
    assert registered.due_at == dt.datetime(2024, 3, 22, tzinfo=CST)  # acceptance deadline
    assert closed.closed_at == dt.datetime(2024, 4, 20, tzinfo=CST)


def test_search_params_send_every_spelling() -> None:
    params = search_params(
        ListQuery(received_from=dt.datetime(2024, 1, 1, 1, tzinfo=CST),
                  statuses=(MatterStatus.TRANSFERRED,), overdue=True),
        id_numbers=[D], start=50, rows=50,
    )
    assert params is not None
    assert [v for k, v in params if k == "sfzh"] == [D, D[:-1] + "x", "632322680808005"]
    assert ("zt", "03") in params and ("zt", "04") in params
    assert ("ksrq", "20240101") in params and ("cq", "1") in params
    assert ("start", "50") in params


@pytest.mark.parametrize(
    "body",
    [b"<xfjl><xfbh>X</xfbh>", b"<html>oops</html>", b"<xfjl><xfbh>X</xfbh></xfjl>",
     b'<!DOCTYPE x [<!ENTITY a "aaaa">]><xfjl>&a;</xfjl>'],
)
def test_malformed_or_hostile_xml_is_bad_response(body: bytes) -> None:
    with pytest.raises(CentreBadResponse):
        parse_item(body)


async def test_get_many_fans_out_with_bounded_concurrency_and_drops_missing() -> None:
    active = peak = 0
    item = raw("petitions_item.xml")

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.01)
        active -= 1
        xfbh = request.url.params["xfbh"]
        if xfbh == "XF6323012024000123":
            return httpx.Response(200, content=item)
        return httpx.Response(404, content=raw("petitions_not_found.xml"))

    conn = PetitionsConnector(PetitionsSettings(base_url="http://xf.test"), FAST,
                              transport=httpx.MockTransport(handler))
    ids = ["XF6323012024000123", *(f"XF-MISSING-{i}" for i in range(11))]
    found = await conn.get_many(ids)
    await conn.aclose()
    assert list(found) == ["XF6323012024000123"]
    assert peak == FAST.max_concurrency


async def test_find_by_citizens_matches_legacy_spellings() -> None:
    seen: list[list[str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.params.get_list("sfzh"))
        return httpx.Response(200, content=raw("petitions_search.xml").replace(
            b"<total>57</total>", b"<total>2</total>"))

    conn = PetitionsConnector(PetitionsSettings(base_url="http://xf.test"), FAST,
                              transport=httpx.MockTransport(handler))
    found = await conn.find_by_citizens([A])
    await conn.aclose()
    assert seen == [[A, "632301800101123"]]
    assert [r.native_id for r in found[A]] == ["XF6323012024000123"]


async def test_list_matters_offset_paging() -> None:
    starts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        starts.append(request.url.params["start"] + "/" + request.url.params["rows"])
        return httpx.Response(200, content=raw("petitions_search.xml"))

    conn = PetitionsConnector(PetitionsSettings(base_url="http://xf.test"), FAST,
                              transport=httpx.MockTransport(handler))
    page = await conn.list_matters(ListQuery(limit=3))
    await conn.aclose()
    assert starts == ["0/3", "2/1"] and page.total == 57 and len(page.items) == 3
