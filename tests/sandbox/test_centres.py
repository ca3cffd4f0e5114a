"""Each centre's wire contract over real loopback sockets (sandbox/API.md)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from defusedxml import ElementTree

from onedoor.model import Centre
from sandbox.idp import mint_token
from sandbox.runner import Sandbox

pytestmark = pytest.mark.asyncio(loop_scope="module")
KEY = {"X-Api-Key": "mediation-demo-key"}
CLIENT = {"X-Client-Id": "tests"}


@pytest_asyncio.fixture(loop_scope="module")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


async def legal_token(http: httpx.AsyncClient, sb: Sandbox) -> str:
    response = await http.post(f"{sb.idp_url}/oauth/token",
                               data={"grant_type": "client_credentials", "scope": "legal.read"},
                               auth=("onedoor-legal", "legal-demo-secret"))
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "legal.read"
    assert body["expires_in"] > 0
    return str(body["access_token"])


async def test_mediation_requires_key(sb: Sandbox, http: httpx.AsyncClient) -> None:
    response = await http.get(f"{sb.urls[Centre.MEDIATION]}/api/cases")
    assert response.status_code == 401
    assert response.json() == {"code": "UNAUTHORIZED"}


async def test_mediation_search_and_batch(sb: Sandbox, http: httpx.AsyncClient) -> None:
    url = f"{sb.urls[Centre.MEDIATION]}/api/cases"
    page = (await http.get(url, headers=KEY, params={
        "regionCodes": "63,6502", "pageSize": 5, "page": 2})).json()
    assert page["page"] == 2 and page["pageSize"] == 5 and page["total"] > 10
    assert len(page["items"]) == 5
    keys = [(c["acceptTime"], c["caseNo"]) for c in page["items"]]
    assert keys == sorted(keys, reverse=True)
    assert all(c["regionCode"].startswith(("63", "6502")) for c in page["items"])
    case = page["items"][0]
    assert case["disputeTypeCode"] in {f"{i:02d}" for i in range(1, 16)}
    assert case["parties"][0]["role"] == "SQR"
    batch = (await http.get(url, headers=KEY,
                            params={"ids": f"{case['caseNo']},TJ999999202400001"})).json()
    assert batch["items"] == [case]
    assert batch["missing"] == ["TJ999999202400001"]
    too_many = await http.get(url, headers=KEY, params={"ids": ",".join(["x"] * 101)})
    assert too_many.status_code == 400
    citizen = sb.world.sample_citizens(1)[0]
    mine = (await http.get(url, headers=KEY, params={"partyIdNos": citizen})).json()
    assert all(any(p.get("idCardNo") == citizen for p in c["parties"]) for c in mine["items"])
    overdue = (await http.get(url, headers=KEY, params={"overdue": "1", "pageSize": 100})).json()
    assert overdue["total"] > 0


async def test_legal_requires_bearer(sb: Sandbox, http: httpx.AsyncClient) -> None:
    url = f"{sb.urls[Centre.LEGAL_SERVICES]}/v1/applications"
    missing = await http.get(url)
    assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith("Bearer")
    wrong_scope = mint_token(sb.state_dir, {"sub": "x", "scope": "other"}, issuer=sb.idp_url)
    denied = await http.get(url, headers={"Authorization": f"Bearer {wrong_scope}"})
    assert denied.status_code == 401
    wrong_issuer = mint_token(sb.state_dir, {"scope": "legal.read"}, issuer="http://evil")
    assert (await http.get(url, headers={"Authorization": f"Bearer {wrong_issuer}"})
            ).status_code == 401


async def test_legal_search_cursor_and_batch(sb: Sandbox, http: httpx.AsyncClient) -> None:
    url = f"{sb.urls[Centre.LEGAL_SERVICES]}/v1/applications"
    auth = {"Authorization": f"Bearer {await legal_token(http, sb)}"}
    first = (await http.get(url, headers=auth, params={"service_type": "legal_aid",
                                                         "limit": 3})).json()
    assert first["total_count"] > 3 and len(first["data"]) == 3
    second = (await http.get(url, headers=auth, params={
        "service_type": "legal_aid", "limit": 3, "cursor": first["next_cursor"]})).json()
    seen = [a["application_no"] for a in first["data"] + second["data"]]
    assert len(set(seen)) == 6
    stamps = [(a["submitted_at"], a["application_no"]) for a in first["data"] + second["data"]]
    assert stamps == sorted(stamps, reverse=True)
    app = first["data"][0]
    assert app["service_type"] == "legal_aid" and app["decision_due"] is not None
    assert app["submitted_at"].endswith("+08:00")
    batch = (await http.get(url, headers=auth, params=[
        ("application_no", app["application_no"]), ("application_no", "FY2024000000000001")
    ])).json()
    assert batch["data"] == [app] and batch["not_found"] == ["FY2024000000000001"]


async def test_petitions_xml(sb: Sandbox, http: httpx.AsyncClient) -> None:
    url = sb.urls[Centre.PETITIONS]
    result = await http.get(f"{url}/xf/query", params={"qhdm": "6323", "rows": 5, "cq": "1"})
    assert result.headers["content-type"].startswith("application/xml")
    root = ElementTree.fromstring(result.content)
    assert root.tag == "result" and int(root.findtext("total")) > 0
    records = root.findall("xfjl")
    assert 0 < len(records) <= 5
    record = records[0]
    for tag in ("xfbh", "bt", "xfxs", "xflb", "nrfl", "zt", "qhdm", "djrq", "djsj", "slqx",
                "xfr/xm", "xfr/sfzh", "lcjl/jl/dz"):
        assert record.find(tag) is not None, tag
    assert record.findtext("qhdm").startswith("6323")
    assert len(record.findtext("djrq")) == 8
    one = await http.get(f"{url}/xf/item", params={"xfbh": record.findtext("xfbh")})
    assert ElementTree.fromstring(one.content).findtext("xfbh") == record.findtext("xfbh")
    missing = await http.get(f"{url}/xf/item", params={"xfbh": "XF000000"})
    assert missing.status_code == 404
    assert ElementTree.fromstring(missing.content).findtext("code") == "NOT_FOUND"


async def test_petitions_whistleblower_and_links(sb: Sandbox, http: httpx.AsyncClient) -> None:
    url = f"{sb.urls[Centre.PETITIONS]}/xf/query"
    root = ElementTree.fromstring((await http.get(url, params={"lb": "JJKG", "rows": 50})).content)
    assert any(r.findtext("xfr/jm") == "1" for r in root.findall("xfjl"))
    world = sb.world
    row = next(r for r in world.rows(Centre.PETITIONS) if world.cols.story[r] == 2)
    m = world.matter(row)
    record = ElementTree.fromstring(
        (await http.get(f"{sb.urls[Centre.PETITIONS]}/xf/item",
                        params={"xfbh": m.native_id})).content)
    assert record.findtext("glxx/gl/xt") == "TJ" and record.findtext("glxx/gl/lx") == "ZXF"
    case = (await http.get(f"{sb.urls[Centre.MEDIATION]}/api/cases", headers=KEY,
                           params={"ids": record.findtext("glxx/gl/bh")})).json()["items"][0]
    assert {"system": "XF", "refNo": m.native_id, "relation": "ESCALATED"} in case["related"]


async def test_litigation(sb: Sandbox, http: httpx.AsyncClient) -> None:
    url = sb.urls[Centre.LITIGATION]
    assert (await http.get(f"{url}/cases")).status_code == 400
    page = (await http.get(f"{url}/cases", headers=CLIENT, params={"pageSize": 4})).json()
    assert page["totalSize"] > 4 and "nextPageToken" in page
    case = page["cases"][0]
    assert case["court"]["code"][1:] == case["regionCode"][2:6]
    assert isinstance(case["filedAt"], int)
    nxt = (await http.get(f"{url}/cases", headers=CLIENT, params={
        "pageSize": 4, "pageToken": page["nextPageToken"]})).json()
    assert nxt["cases"][0]["filedAt"] <= page["cases"][-1]["filedAt"]
    batch = (await http.post(f"{url}/cases:batchGet", headers=CLIENT, json={
        "caseNumbers": [case["caseNumber"], "（2024）青2301民初999999号"]})).json()
    assert batch["cases"] == [case] and batch["notFound"] == ["（2024）青2301民初999999号"]


async def test_litigation_rate_limit(sb: Sandbox, http: httpx.AsyncClient) -> None:
    url = f"{sb.urls[Centre.LITIGATION]}/cases"
    responses = await asyncio.gather(*[
        http.get(url, headers=CLIENT, params={"pageSize": 1}) for _ in range(80)])
    limited = [r for r in responses if r.status_code == 429]
    assert limited and all(r.headers["retry-after"] == "1" for r in limited)
    assert sum(r.status_code == 200 for r in responses) >= 50
    await asyncio.sleep(1.1)  # let the bucket refill for later tests


async def test_governance_federation(sb: Sandbox, http: httpx.AsyncClient) -> None:
    url = f"{sb.urls[Centre.GOVERNANCE]}/graphql"
    sdl = (await http.post(url, json={"query": "{ _service { sdl } }"})).json()
    text = sdl["data"]["_service"]["sdl"]
    assert 'type GridEvent @key(fields: "eventNo")' in text
    assert 'type Resident @key(fields: "idNumber")' in text and "federation/v2.11" in text
    page = (await http.post(url, json={"query": """{ gridEvents(regionPrefixes: ["65"],
        overdue: true, limit: 3) { totalCount items { eventNo regionCode reportedAt dueAt
        status parties { idNumber } } } }"""})).json()["data"]["gridEvents"]
    assert page["totalCount"] > 0 and len(page["items"]) <= 3
    event = page["items"][0]
    assert event["regionCode"].startswith("65") and event["reportedAt"].endswith("+08:00")
    citizen = sb.world.sample_citizens(1)[0]
    query = """query($r: [_Any!]!) { _entities(representations: $r) {
        ... on GridEvent { eventNo status } ... on Resident { idNumber name regionCode } } }"""
    reps = [{"__typename": "GridEvent", "eventNo": event["eventNo"]},
            {"__typename": "Resident", "idNumber": citizen},
            {"__typename": "GridEvent", "eventNo": "WG000000000000000"}]
    result = (await http.post(url, json={"query": query, "variables": {"r": reps}})).json()
    entities = result["data"]["_entities"]
    assert entities[0] == {"eventNo": event["eventNo"], "status": event["status"]}
    assert entities[1]["idNumber"] == citizen
    assert entities[2] is None
    warnings = (await http.post(url, json={
        "query": '{ riskWarnings(regionPrefixes: ["6323"]) { warningNo level regionCode } }'})
    ).json()["data"]["riskWarnings"]
    assert warnings and all(w["regionCode"].startswith("6323") for w in warnings)


@pytest.mark.parametrize("centre", [Centre.MEDIATION, Centre.LEGAL_SERVICES,
                                    Centre.PETITIONS, Centre.LITIGATION])
async def test_openapi(sb: Sandbox, http: httpx.AsyncClient, centre: Centre) -> None:
    doc = (await http.get(f"{sb.urls[centre]}/openapi.json")).json()
    assert doc["openapi"].startswith("3.") and doc["paths"]
