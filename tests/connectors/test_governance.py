from __future__ import annotations

import datetime as dt
import json

import httpx
import pytest

from connectors.base import ListQuery
from connectors.errors import CentreBadResponse
from connectors.governance import (
    GovernanceConnector,
    entities_request,
    parse_search,
    parse_warnings,
    search_request,
    warnings_request,
)
from connectors.settings import GovernanceSettings
from onedoor.model import Centre, LinkRelation, MatterStatus

from .conftest import FAST, payload

A = "632301198001011237"


def test_parse_search_maps_events() -> None:
    items, total = parse_search(payload("governance_search.json"))
    assert total == 3
    dispute, hazard = items
    assert dispute.status is MatterStatus.IN_PROGRESS and dispute.centre_status == "派遣"
    assert dispute.parties[0].role == "COMPLAINANT" and dispute.parties[0].id_number == A
    assert {(lk.relation, lk.centre) for lk in dispute.links} == {
        (LinkRelation.REFERRED_TO, Centre.MEDIATION),
        (LinkRelation.ESCALATED_TO, Centre.PETITIONS),
    }
    assert dict(dispute.extra) == {"grid_code": "632301001002-03", "event_type": "劳动争议",
                                   "reporter": "网格员卓玛", "dispatched_at": None, "dispatched": True}
    assert hazard.category == "其他" and hazard.extra["event_type"] == "安全隐患"
    assert hazard.status is MatterStatus.CLOSED


def test_search_request_variables() -> None:
    request = search_request(
        ListQuery(categories=("其他",), statuses=(MatterStatus.REGISTERED,), overdue=True),
        id_numbers=[A], offset=100, limit=50,
    )
    assert request is not None
    assert request["variables"] == {
        "offset": 100, "limit": 50, "idNumbers": [A], "statuses": ["REPORTED", "VERIFIED"],
        "eventTypes": ["其他", "安全隐患", "社会治安", "环境卫生"], "overdue": True,
    }
    reps = entities_request("GridEvent", "eventNo", ["WG1"])["variables"]["representations"]
    assert reps == [{"__typename": "GridEvent", "eventNo": "WG1"}]


def _connector(handler: httpx.MockTransport) -> GovernanceConnector:
    return GovernanceConnector(GovernanceSettings(base_url="http://grid.test"), FAST,
                               transport=handler)


async def test_get_many_via_entities_drops_nulls() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        assert "_entities" in body["query"]
        return httpx.Response(200, json=payload("governance_entities.json"))

    conn = _connector(httpx.MockTransport(handler))
    found = await conn.get_many(["WG-NOPE", "WG6323012024000123"])
    await conn.aclose()
    assert list(found) == ["WG6323012024000123"]


async def test_get_residents() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        reps = json.loads(request.content)["variables"]["representations"]
        assert reps == [{"__typename": "Resident", "idNumber": A},
                        {"__typename": "Resident", "idNumber": "632301197506150318"}]
        return httpx.Response(200, json=payload("governance_residents.json"))

    conn = _connector(httpx.MockTransport(handler))
    found = await conn.get_residents([A, "632301197506150318", "junk"])
    await conn.aclose()
    assert list(found) == [A] and found[A].grid_code == "632301001002-03"


@pytest.mark.parametrize(
    "body",
    [{"errors": [{"message": "db at 10.0.0.7 down"}], "data": None},
     {"data": {"_entities": []}},
     {"data": {"_entities": [{"eventNo": 1}, None]}}],
)
async def test_graphql_errors_and_bad_shapes_are_bad_responses(body: object) -> None:
    conn = _connector(httpx.MockTransport(lambda r: httpx.Response(200, json=body)))
    with pytest.raises(CentreBadResponse) as info:
        await conn.get_many(["WG1", "WG2"])
    await conn.aclose()
    assert "10.0.0.7" not in str(info.value) + info.value.detail


async def test_empty_status_filter_short_circuits() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request expected")

    conn = _connector(httpx.MockTransport(handler))
    page = await conn.list_matters(ListQuery(statuses=(MatterStatus.TERMINATED,)))
    await conn.aclose()
    assert page.items == () and page.total == 0


def test_risk_warnings_map_and_a_broken_one_is_a_bad_response() -> None:
    request = warnings_request(["6323"], 5)
    assert request["variables"] == {"regionPrefixes": ["6323"], "limit": 5}
    good = {"data": {"riskWarnings": [{"warningNo": "YJ63232220260001", "level": "ORANGE",
                                        "regionCode": "632322", "summary": "土地纠纷集中上升",
                                        "raisedAt": "2026-11-20T09:30:00+08:00"}]}}
    (warning,) = parse_warnings(good)
    assert (warning.warning_no, warning.level, warning.raised_at.utcoffset()) == (
        "YJ63232220260001", "ORANGE", dt.timedelta(hours=8))
    with pytest.raises(CentreBadResponse):
        parse_warnings({"data": {"riskWarnings": [{"warningNo": "x"}]}})
