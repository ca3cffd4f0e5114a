from __future__ import annotations

import datetime as dt
import json

import httpx
import pytest

from connectors.base import ListQuery
from connectors.errors import CentreBadResponse
from connectors.mediation import (
    MediationConnector,
    parse_batch,
    parse_search,
    search_params,
)
from connectors.settings import MediationSettings
from onedoor.model import CST, Centre, LinkRelation, MatterStatus, PartyKind

from .conftest import FAST, mock, payload

A = "632301198001011237"
B = "632301197506150318"


def test_parse_search_maps_every_field() -> None:
    items, total = parse_search(payload("mediation_search.json"))
    assert total == 2
    closed, open_ = items
    assert open_.native_id == "TJ632301202400001"
    assert open_.centre is Centre.MEDIATION
    assert open_.category == "劳动争议"
    assert open_.status is MatterStatus.IN_PROGRESS
    assert open_.centre_status == "先行调解"
    assert open_.received_at == dt.datetime(2024, 3, 5, 9, 30, tzinfo=CST)
    # One month from 03-05 is 04-05, in the Qingming rest (04-04…04-06); 04-07 is a 调休 working day,
    # which ends at 24:00 (民法典 Art.202, 203). The centre's own ``deadline`` is not read.
    assert open_.due_at == dt.datetime(2024, 4, 8, 0, 0, tzinfo=CST)
    assert open_.closed_at is None
    applicant, respondent = open_.parties
    assert (applicant.role, applicant.id_number, applicant.phone) == ("APPLICANT", A, "13800000000")
    assert respondent.role == "RESPONDENT" and respondent.id_number is None  # junk id → None
    assert {(link.relation, link.centre, link.native_id) for link in open_.links} == {
        (LinkRelation.REFERRED_FROM, Centre.GOVERNANCE, "WG6323012024000123"),
        (LinkRelation.ESCALATED_TO, Centre.PETITIONS, "XF6323012024000123"),
        (LinkRelation.PRE_LITIGATION_OF, Centre.LITIGATION, "（2024）青2301诉前调5号"),
    }
    assert dict(open_.extra) == {
        "mediation_type": "人民调解", "source": "申请调解",
        "agreement_reached": None, "agreement_form": None,
        "agreement_effective_on": None, "confirmation_apply_by": None,
    }
    assert closed.status is MatterStatus.CLOSED and closed.category == "物业"
    assert closed.closed_at == dt.datetime(2024, 3, 20, 16, 30, tzinfo=CST)
    assert closed.parties[1].kind is PartyKind.ORGANISATION
    assert closed.parties[1].org_code == "91630100MA7XXXXX1A"
    assert closed.extra["agreement_reached"] is True
    # No agreementEffectiveDate in this older payload: the day it finished with an agreement (Art.29/30);
    # 30 days to apply for judicial confirmation (Art.33): 03-20 + 30 = 04-19, a Friday.
    assert closed.extra["agreement_effective_on"] == dt.date(2024, 3, 20)
    assert closed.extra["confirmation_apply_by"] == dt.datetime(2024, 4, 20, tzinfo=CST)
    assert closed.extra["mediation_type"] == "行业性专业性调解"
    # unknown systems are dropped, known ones keep this side's perspective
    assert [(lk.relation, lk.centre) for lk in closed.links] == [
        (LinkRelation.CONFIRMED_BY, Centre.LITIGATION)
    ]
    assert [e.action for e in closed.events] == ["登记受理", "案结事了"]


def test_search_params_translate_unified_filters() -> None:
    query = ListQuery(
        region_prefixes=("6323", "6502"),
        statuses=(MatterStatus.IN_PROGRESS, MatterStatus.CLOSED),
        categories=("劳动争议", "婚姻家庭"),
        received_from=dt.datetime(2024, 1, 1, tzinfo=CST),
        received_to=dt.datetime(2024, 6, 30, 15, 59, 59, tzinfo=dt.UTC),
        overdue=True,
    )
    params = search_params(query, page=2, page_size=50)
    assert params == {
        "page": "2", "pageSize": "50", "regionCodes": "6323,6502",
        "statusCodes": "XXTJ,FXYP,GZDB,AJSL", "disputeTypeCodes": "10,01",
        "acceptFrom": "2024-01-01 00:00:00", "acceptTo": "2024-06-30 23:59:59", "overdue": "1",
    }


def test_search_params_none_when_nothing_can_match() -> None:
    assert search_params(ListQuery(statuses=(MatterStatus.REJECTED,))) is None
    assert search_params(ListQuery(region_prefixes=())) is None
    assert search_params(ListQuery(categories=("不存在",))) is None


@pytest.mark.parametrize(
    "body",
    [
        {"items": [{"caseNo": "x"}], "missing": []},
        {"items": "nope"},
        [],
        {"items": [{**payload("mediation_search.json")["items"][0], "statusCode": "??"}]},
        {"items": [{**payload("mediation_search.json")["items"][0], "acceptTime": "5 March"}]},
        {"items": [{**payload("mediation_search.json")["items"][0], "parties": [{"role": 1}]}]},
    ],
)
def test_contract_violations_are_bad_responses(body: object) -> None:
    with pytest.raises(CentreBadResponse):
        parse_batch(body)


def _connector(handler: httpx.MockTransport) -> MediationConnector:
    return MediationConnector(MediationSettings(base_url="http://m.test"), FAST, transport=handler)


async def test_get_many_sends_key_and_drops_missing() -> None:
    seen: list[httpx.Request] = []
    items = payload("mediation_search.json")["items"]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"items": items[1:], "missing": ["TJ-NOPE"]})

    conn = _connector(mock(handler))
    found = await conn.get_many(["TJ632301202400001", "TJ-NOPE", "TJ632301202400001"])
    await conn.aclose()
    assert set(found) == {"TJ632301202400001"}
    assert seen[0].headers["X-Api-Key"] == "mediation-demo-key"
    assert seen[0].url.params["ids"] == "TJ632301202400001,TJ-NOPE"


async def test_list_matters_pages_past_native_max() -> None:
    base = payload("mediation_search.json")["items"][1]
    total = 230
    pages: list[tuple[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        page, size = int(request.url.params["page"]), int(request.url.params["pageSize"])
        pages.append((str(page), str(size)))
        start = (page - 1) * size
        rows = [
            {**base, "caseNo": f"TJ{total - i:05d}"} for i in range(start, min(total, start + size))
        ]
        return httpx.Response(200, json={"page": page, "pageSize": size, "total": total,
                                         "items": rows})

    conn = _connector(mock(handler))
    result = await conn.list_matters(ListQuery(limit=150))
    await conn.aclose()
    assert result.total == total
    assert len(result.items) == 150
    assert pages == [("1", "100"), ("2", "100")]
    assert [r.native_id for r in result.items][:2] == ["TJ00230", "TJ00229"]


async def test_find_by_citizens_groups_by_canonical_party() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert set(request.url.params["partyIdNos"].split(",")) == {A, B}
        return httpx.Response(200, content=json.dumps(payload("mediation_search.json")))

    conn = _connector(mock(handler))
    found = await conn.find_by_citizens([A, B, "bogus"])
    await conn.aclose()
    assert [r.native_id for r in found[A]] == ["TJ632301202400001"]
    assert [r.native_id for r in found[B]] == ["TJ632301202400002"]
    assert found["bogus"] == ()


async def test_malformed_json_is_bad_response() -> None:
    conn = _connector(mock(lambda r: httpx.Response(200, content=b'{"items": [')))
    with pytest.raises(CentreBadResponse) as info:
        await conn.list_matters(ListQuery())
    await conn.aclose()
    assert "items" not in str(info.value)
