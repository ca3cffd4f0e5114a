"""Each centre's native "add a cross-reference" write (sandbox/writes.py overlay) over
real sockets: idempotent by content, the centre's own 404 for an unknown record, and
the added link rendered by every read path of generated and created records alike."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import pytest_asyncio
from defusedxml import ElementTree

from onedoor.model import Centre
from sandbox.lifecycle import STATUSES
from sandbox.people import village_table
from sandbox.runner import Sandbox

pytestmark = pytest.mark.asyncio(loop_scope="module")
KEY = {"X-Api-Key": "mediation-demo-key"}
CLIENT = {"X-Client-Id": "tests"}
UNKNOWN = {Centre.MEDIATION: "TJ999999202400001", Centre.LEGAL_SERVICES: "FY2024999999000001",
           Centre.PETITIONS: "XF9999992024000001", Centre.LITIGATION: "（2024）青9999民初1号",
           Centre.GOVERNANCE: "WG9999992024000001"}
# one native link per centre, in that centre's own vocabulary
LINKS: dict[Centre, dict[str, str]] = {
    Centre.MEDIATION: {"system": "XF", "refNo": "XF6323012025000001", "relation": "TRANSFER_OUT"},
    Centre.LEGAL_SERVICES: {"target_system": "court", "target_id": "（2025）青2301民初1号",
                            "type": "transferred_to"},
    Centre.PETITIONS: {"xt": "FY", "bh": "（2025）青2301民初1号", "lx": "ZC"},
    Centre.LITIGATION: {"kind": "TRANSFER_IN", "ref": "TJ632301202500001", "system": "MEDIATION"},
    Centre.GOVERNANCE: {"kind": "TRANSFER_OUT", "refNo": "TJ632301202500001", "system": "MEDIATION"},
}
ADD_REFERRAL = """mutation($input: AddReferralInput!) {
  addReferral(input: $input) { clientMutationId gridEvent { eventNo referrals { kind refNo system } } } }"""


@pytest_asyncio.fixture(loop_scope="module")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


async def _legal_auth(http: httpx.AsyncClient, sb: Sandbox, scope: str) -> dict[str, str]:
    response = await http.post(f"{sb.idp_url}/oauth/token",
                               data={"grant_type": "client_credentials", "scope": scope},
                               auth=("onedoor-legal", "legal-demo-secret"))
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _gl(element: Any) -> list[dict[str, str]]:
    return [{t: gl.findtext(t) or "" for t in ("xt", "bh", "lx")} for gl in element.findall("glxx/gl")]


async def add(http: httpx.AsyncClient, sb: Sandbox, centre: Centre, native_id: str,
              link: dict[str, str]) -> tuple[int, Any]:
    """The centre's own write; (HTTP status, the record it answered or None)."""
    url = sb.urls[centre]
    if centre is Centre.MEDIATION:
        r = await http.post(f"{url}/api/cases/{quote(native_id)}/related", json=link, headers=KEY)
        return r.status_code, r.json()
    if centre is Centre.LEGAL_SERVICES:
        r = await http.post(f"{url}/v1/applications/{quote(native_id)}/links", json=link,
                            headers=await _legal_auth(http, sb, "legal.write"))
        return r.status_code, r.json()
    if centre is Centre.PETITIONS:
        gl = "".join(f"<{t}>{v}</{t}>" for t, v in link.items())
        r = await http.post(f"{url}/xf/gl", content=f"<gldj><xfbh>{native_id}</xfbh><gl>{gl}</gl></gldj>",
                            headers={"Content-Type": "application/xml"})
        return r.status_code, ElementTree.fromstring(r.content)
    if centre is Centre.LITIGATION:
        r = await http.post(f"{url}/cases/{quote(native_id)}:addRelated", json={"related": link},
                            headers=CLIENT)
        return r.status_code, r.json()
    r = await http.post(f"{url}/graphql", json={"query": ADD_REFERRAL, "variables": {"input": {
        "eventNo": native_id, "kind": link["kind"], "refNo": link["refNo"], "system": link.get("system"),
        "clientMutationId": "c1"}}})
    payload = r.json()["data"]["addReferral"]
    assert payload["clientMutationId"] == "c1"
    return (404 if payload["gridEvent"] is None else r.status_code), payload["gridEvent"]


def native_links(centre: Centre, record: Any) -> list[dict[str, str]]:
    if centre is Centre.MEDIATION or centre is Centre.LITIGATION:
        return list(record["related"])
    if centre is Centre.LEGAL_SERVICES:
        return list(record["links"])
    if centre is Centre.PETITIONS:
        return _gl(record)
    return [{k: v for k, v in r.items() if v is not None} for r in record["referrals"]]


async def read_back(http: httpx.AsyncClient, sb: Sandbox, centre: Centre, native_id: str) -> Any:
    """The record through the centre's ordinary read API (batch read or item)."""
    url = sb.urls[centre]
    if centre is Centre.MEDIATION:
        return (await http.get(f"{url}/api/cases", params={"ids": native_id}, headers=KEY)).json()["items"][0]
    if centre is Centre.LEGAL_SERVICES:
        auth = await _legal_auth(http, sb, "legal.read")
        r = await http.get(f"{url}/v1/applications", params={"application_no": native_id}, headers=auth)
        return r.json()["data"][0]
    if centre is Centre.PETITIONS:
        return ElementTree.fromstring((await http.get(f"{url}/xf/item", params={"xfbh": native_id})).content)
    if centre is Centre.LITIGATION:
        r = await http.post(f"{url}/cases:batchGet", json={"caseNumbers": [native_id]}, headers=CLIENT)
        return r.json()["cases"][0]
    query = """query($r: [_Any!]!) { _entities(representations: $r) {
        ... on GridEvent { eventNo referrals { kind refNo system } } } }"""
    reps = [{"__typename": "GridEvent", "eventNo": native_id}]
    r = await http.post(f"{url}/graphql", json={"query": query, "variables": {"r": reps}})
    return r.json()["data"]["_entities"][0]


def created(sb: Sandbox, centre: Centre) -> str:
    """A record created through the write overlay (the create APIs' own store)."""
    assert sb.writes is not None
    region = next(c for c in village_table()[0] if c.startswith("632301"))
    record, _ = sb.writes.add(centre, {
        "title": "拖欠工资", "category": "劳动争议", "region_code": region,
        "applicant": {"name": "张三", "id_number": "632301198005170011"}, "others": [],
    }, status={Centre.MEDIATION: "DJ", Centre.LEGAL_SERVICES: "submitted", Centre.PETITIONS: "01",
               Centre.LITIGATION: "FILED", Centre.GOVERNANCE: "REPORTED"}[centre], first_step="登记")
    return record.native_id


@pytest.mark.parametrize("centre", list(Centre))
@pytest.mark.parametrize("origin", ["generated", "created"])
async def test_add_link_is_idempotent_and_read_back(
        sb: Sandbox, http: httpx.AsyncClient, centre: Centre, origin: str) -> None:
    native_id = sb.world.native_id(sb.world.rows(centre)[7]) if origin == "generated" else created(sb, centre)
    before = native_links(centre, await read_back(http, sb, centre, native_id))
    link = LINKS[centre]
    status, record = await add(http, sb, centre, native_id, link)
    assert status in (200, 201)
    assert native_links(centre, record) == [*before, link]
    again, record = await add(http, sb, centre, native_id, link)  # a retried write
    assert again == 200
    assert native_links(centre, record) == [*before, link]  # kept once
    assert native_links(centre, await read_back(http, sb, centre, native_id)) == [*before, link]


@pytest.mark.parametrize("centre", [Centre.MEDIATION, Centre.LEGAL_SERVICES, Centre.PETITIONS])
async def test_first_add_is_201_then_200(sb: Sandbox, http: httpx.AsyncClient, centre: Centre) -> None:
    native_id = created(sb, centre)
    assert (await add(http, sb, centre, native_id, LINKS[centre]))[0] == 201
    assert (await add(http, sb, centre, native_id, LINKS[centre]))[0] == 200


@pytest.mark.parametrize("centre", list(Centre))
async def test_unknown_record_is_the_centres_own_not_found(
        sb: Sandbox, http: httpx.AsyncClient, centre: Centre) -> None:
    assert sb.writes is not None
    status, body = await add(http, sb, centre, UNKNOWN[centre], LINKS[centre])
    assert status == 404
    if centre is Centre.PETITIONS:
        assert body.tag == "error" and body.findtext("code") == "NOT_FOUND"
    elif centre is Centre.MEDIATION:
        assert body == {"code": "NOT_FOUND"}
    elif centre is Centre.LITIGATION:
        assert body["error"]["status"] == "NOT_FOUND"
    elif centre is Centre.LEGAL_SERVICES:
        assert body == {"error": "not_found"}
    assert (centre, UNKNOWN[centre]) not in sb.writes.links


async def test_added_links_show_in_searches_too(sb: Sandbox, http: httpx.AsyncClient) -> None:
    native_id = created(sb, Centre.PETITIONS)
    await add(http, sb, Centre.PETITIONS, native_id, LINKS[Centre.PETITIONS])
    result = ElementTree.fromstring((await http.get(f"{sb.urls[Centre.PETITIONS]}/xf/query", params={
        "sfzh": "632301198005170011", "rows": 50})).content)
    (mine,) = [x for x in result.findall("xfjl") if x.findtext("xfbh") == native_id]
    assert _gl(mine) == [LINKS[Centre.PETITIONS]]


async def test_bad_bodies_and_scopes_are_refused(sb: Sandbox, http: httpx.AsyncClient) -> None:
    case = sb.world.native_id(sb.world.rows(Centre.MEDIATION)[3])
    url = f"{sb.urls[Centre.MEDIATION]}/api/cases/{case}/related"
    assert (await http.post(url, json={"system": "XF"}, headers=KEY)).status_code == 400
    assert (await http.post(url, json=LINKS[Centre.MEDIATION])).status_code == 401
    application = sb.world.native_id(sb.world.rows(Centre.LEGAL_SERVICES)[3])
    read_only = await _legal_auth(http, sb, "legal.read")
    refused = await http.post(f"{sb.urls[Centre.LEGAL_SERVICES]}/v1/applications/{application}/links",
                              json=LINKS[Centre.LEGAL_SERVICES], headers=read_only)
    assert refused.status_code == 401  # adding a link is a write: legal.write
    bad_xml = await http.post(f"{sb.urls[Centre.PETITIONS]}/xf/gl", content="<gldj><xfbh>x</xfbh></gldj>")
    assert bad_xml.status_code == 400
    assert ElementTree.fromstring(bad_xml.content).findtext("code") == "BAD_REQUEST"
    number = sb.world.native_id(sb.world.rows(Centre.LITIGATION)[3])
    no_client = await http.post(f"{sb.urls[Centre.LITIGATION]}/cases/{quote(number)}:addRelated",
                                json={"related": LINKS[Centre.LITIGATION]})
    assert no_client.status_code == 400
    assert sb.writes is not None and (Centre.MEDIATION, case) not in sb.writes.links


# (open status to pick a generated record in, status to move it to, step recorded, closes?)
MOVES = {Centre.MEDIATION: ("XXTJ", "AJSL", "案结事了", True),
         Centre.LEGAL_SERVICES: ("under_review", "closed", "closed", True),
         Centre.PETITIONS: ("01", "02", "受理", False),
         Centre.LITIGATION: ("TRIAL", "CLOSED", "结案", True),
         Centre.GOVERNANCE: ("DISPATCHED", "CLOSED", "核查结案", True)}


async def now_state(http: httpx.AsyncClient, sb: Sandbox, centre: Centre, native_id: str,
                    party: str, status: str) -> tuple[str, str, bool, bool]:
    """(status, last history step, has a closing time, found by a search on ``status``)
    through the centre's own read APIs."""
    url = sb.urls[centre]
    if centre is Centre.MEDIATION:
        case = await read_back(http, sb, centre, native_id)
        page = (await http.get(f"{url}/api/cases", headers=KEY, params={
            "partyIdNos": party, "statusCodes": status, "pageSize": 100})).json()
        return (case["statusCode"], case["progress"][-1]["step"], case["finishTime"] is not None,
                native_id in {c["caseNo"] for c in page["items"]})
    if centre is Centre.LEGAL_SERVICES:
        app = await read_back(http, sb, centre, native_id)
        page = (await http.get(f"{url}/v1/applications", headers=await _legal_auth(http, sb, "legal.read"),
                               params={"id_number": party, "status": status, "limit": 100})).json()
        return (app["status"], app["history"][-1]["event"], app["closed_at"] is not None,
                native_id in {a["application_no"] for a in page["data"]})
    if centre is Centre.PETITIONS:
        record = await read_back(http, sb, centre, native_id)
        result = ElementTree.fromstring((await http.get(f"{url}/xf/query", params={
            "sfzh": party, "zt": status, "rows": 50})).content)
        return (record.findtext("zt"), record.findall("lcjl/jl")[-1].findtext("dz"), bool(record.findtext("bjrq")),
                native_id in {x.findtext("xfbh") for x in result.findall("xfjl")})
    if centre is Centre.LITIGATION:
        case = await read_back(http, sb, centre, native_id)
        page = (await http.get(f"{url}/cases", headers=CLIENT, params={
            "partyIdNo": party, "state": status, "pageSize": 100})).json()
        return (case["state"], case["docket"][-1]["entry"], case["closedAt"] is not None,
                native_id in {c["caseNumber"] for c in page["cases"]})
    query = """query($r: [_Any!]!, $ids: [String!], $s: [String!]) {
      _entities(representations: $r) { ... on GridEvent { status closedAt steps { step } } }
      gridEvents(idNumbers: $ids, statuses: $s, limit: 100) { items { eventNo } } }"""
    data = (await http.post(f"{url}/graphql", json={"query": query, "variables": {
        "r": [{"__typename": "GridEvent", "eventNo": native_id}], "ids": [party], "s": [status]}})).json()["data"]
    event = data["_entities"][0]
    return (event["status"], event["steps"][-1]["step"], event["closedAt"] is not None,
            native_id in {e["eventNo"] for e in data["gridEvents"]["items"]})


@pytest.mark.parametrize("centre", list(Centre))
async def test_generated_records_change_status_everywhere(
        sb: Sandbox, http: httpx.AsyncClient, centre: Centre) -> None:
    before, after, step, closes = MOVES[centre]
    table = STATUSES[list(Centre).index(centre)]
    row = int(sb.world.search(centre, statuses=[table.index(before)])[0])
    m = sb.world.matter(row)
    party = m.stored_id if centre is Centre.PETITIONS else m.citizen.id_number
    status, _, _, found = await now_state(http, sb, centre, m.native_id, party, before)
    assert status == before and found
    moved = await http.post(f"{sb.urls[centre]}/_sandbox/matters/{quote(m.native_id, safe='')}/status",
                            json={"status": after})
    assert moved.status_code == 200
    assert moved.json() == {"id": m.native_id, "status": after, "delivered": 0}
    status, last_step, closed, found = await now_state(http, sb, centre, m.native_id, party, after)
    assert (status, last_step, closed, found) == (after, step, closes, True)
    assert not (await now_state(http, sb, centre, m.native_id, party, before))[3]  # old status: gone
    if centre is Centre.PETITIONS:  # accepted now: the 60-day handling limit starts
        record = await read_back(http, sb, centre, m.native_id)
        assert record.findtext("slrq") and record.findtext("blqx")


async def test_status_of_an_unknown_record_is_404(sb: Sandbox, http: httpx.AsyncClient) -> None:
    response = await http.post(f"{sb.urls[Centre.MEDIATION]}/_sandbox/matters/TJ999999202400001/status",
                               json={"status": "AJSL"})
    assert response.status_code == 404
    assert sb.writes is not None and (Centre.MEDIATION, "TJ999999202400001") not in sb.writes.moved


class Receiver:
    """A bare HTTP receiver on a free loopback port that keeps each callback's
    headers and JSON body (answers 204), as a centre's subscriber would."""

    def __init__(self) -> None:
        self.calls: asyncio.Queue[tuple[dict[str, str], Any]] = asyncio.Queue()
        self.server: asyncio.Server | None = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in head[1:] if h)}
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        await self.calls.put((headers, json.loads(body)))
        writer.write(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/hook"

    async def __aexit__(self, *_: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


# centre → (its id field, where it says what changed, the create's and the added link's word for it)
CHANGES = {Centre.MEDIATION: ("caseNo", "event", "case.created", "case.related_added"),
           Centre.LITIGATION: ("caseNumber", "type", "CASE_CREATED", "CASE_RELATED_ADDED"),
           Centre.GOVERNANCE: ("eventNo", "change", "REPORTED", "REFERRAL_ADDED")}


@pytest.mark.parametrize("centre", sorted(CHANGES, key=list(Centre).index))
async def test_push_centres_call_back_on_creates_and_added_links(
        sb: Sandbox, http: httpx.AsyncClient, centre: Centre) -> None:
    """A copy kept by push learns of a new record or link from the callback, not
    from the next full reload; each callback signed like the status ones."""
    assert sb.writes is not None
    id_field, kind_field, on_create, on_link = CHANGES[centre]
    receiver = Receiver()
    async with receiver as url:
        assert (await http.post(f"{sb.urls[centre]}/_sandbox/webhooks", json={"url": url})).status_code == 201
        try:
            native_id = created(sb, centre)
            headers, body = await asyncio.wait_for(receiver.calls.get(), 10)
            assert (body[id_field], body[kind_field]) == (native_id, on_create)
            assert headers["x-onedoor-signature"].startswith("t=")
            status, _ = await add(http, sb, centre, native_id, LINKS[centre])
            assert status in (200, 201)
            _, body = await asyncio.wait_for(receiver.calls.get(), 10)
            assert (body[id_field], body[kind_field]) == (native_id, on_link)
            await add(http, sb, centre, native_id, LINKS[centre])  # the same link again: nothing changed
            await asyncio.sleep(0.2)
            assert receiver.calls.empty()
        finally:
            sb.writes.hooks[centre].remove(url)


async def test_polled_centres_do_not_call_back(sb: Sandbox, http: httpx.AsyncClient) -> None:
    assert sb.writes is not None
    sb.writes.hooks[Centre.PETITIONS].append("http://127.0.0.1:9/never")
    try:
        created(sb, Centre.PETITIONS)
        assert not sb.writes.deliveries
    finally:
        sb.writes.hooks[Centre.PETITIONS].clear()
