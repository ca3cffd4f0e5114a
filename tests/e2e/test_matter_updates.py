"""``subscription matterUpdates`` over graphql-transport-ws: a status change made at
the centre reaches the subscriber — by the centre's webhook (MEDIATION) or by
the gateway polling a centre that has none (PETITIONS)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import pytest_asyncio
from httpx_ws import AsyncWebSocketSession, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport

from onedoor.identifiers import make_resident_id
from onedoor.model import Centre
from sandbox.people import village_table

from .filing_harness import Gateway, start_gateway

pytestmark = pytest.mark.asyncio(loop_scope="module")
VILLAGE = next(c for c in village_table()[0] if c.startswith("632322"))
APPLICANT = make_resident_id("632322", dt.date(1988, 8, 8), 300)
SUBSCRIBE = "subscription U($id: ID!) { matterUpdates(id: $id) { id centreStatus events { action } } }"
SUBMIT = """mutation F($input: SubmitMatterInput!, $key: String!) {
  submitMatter(input: $input, idempotencyKey: $key) { matter { id reference } } }"""


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def gw(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Gateway]:
    async with start_gateway(tmp_path_factory.mktemp("updates")) as gateway:
        yield gateway


async def file(gw: Gateway, category: str, key: str) -> dict[str, Any]:
    body = await gw.query(SUBMIT, gw.token("citizen", sub=APPLICANT), key=key, input={
        "applicants": [{"name": "拉毛", "idNumber": APPLICANT}], "category": category,
        "subject": "邻里", "regionCode": VILLAGE, "description": "邻居占用通道"})
    matter: dict[str, Any] = body["data"]["submitMatter"]["matter"]
    return matter


async def next_data(ws: AsyncWebSocketSession) -> dict[str, Any]:
    message = await ws.receive_json(timeout=10)
    assert message["type"] == "next", message
    data: dict[str, Any] = message["payload"]["data"]["matterUpdates"]
    return data


async def subscribe(ws: AsyncWebSocketSession, matter_id: str) -> None:
    await ws.send_json({"type": "connection_init"})
    assert (await ws.receive_json(timeout=10))["type"] == "connection_ack"
    await ws.send_json({"id": "1", "type": "subscribe",
                        "payload": {"query": SUBSCRIBE, "variables": {"id": matter_id}}})


async def change_status(gw: Gateway, centre: Centre, native_id: str, status: str) -> dict[str, Any]:
    async with httpx.AsyncClient() as direct:
        response = await direct.post(
            f"{gw.sandbox.urls[centre]}/_sandbox/matters/{quote(native_id, safe='')}/status",
            json={"status": status})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize(("category", "centre", "status", "label"), [
    ("邻里", Centre.MEDIATION, "XXTJ", "先行调解"),  # the centre calls the webhook
    ("申诉求决", Centre.PETITIONS, "02", "受理"),  # no webhook: the gateway polls
])
async def test_subscriber_sees_a_status_change_made_at_the_centre(
        gw: Gateway, category: str, centre: Centre, status: str, label: str) -> None:
    matter = await file(gw, category, f"live-{centre.value}-1")
    async with httpx.AsyncClient() as direct:
        hook = await direct.post(f"{gw.sandbox.urls[centre]}/_sandbox/webhooks",
                                 json={"url": f"{gw.url}/webhooks/{centre.value.lower()}"})
    assert hook.status_code == (201 if centre is Centre.MEDIATION else 501)
    gw.service.updates.poll_seconds = 0.05
    transport = ASGIWebSocketTransport(app=gw.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client, aconnect_ws(
            "/graphql", client, subprotocols=["graphql-transport-ws"],
            headers={"Authorization": f"Bearer {gw.token('citizen', sub=APPLICANT)}"}) as ws:
        await subscribe(ws, matter["id"])
        first = await next_data(ws)
        assert first["id"] == matter["id"] and first["centreStatus"] != label
        changed = await change_status(gw, centre, matter["reference"], status)
        assert changed["delivered"] == (1 if centre is Centre.MEDIATION else 0)
        update = await next_data(ws)
        assert update["centreStatus"] == label and update["events"][-1]["action"] == label
        await ws.send_json({"id": "1", "type": "complete"})


async def test_a_stranger_cannot_follow_someone_elses_matter(gw: Gateway) -> None:
    matter = await file(gw, "邻里", "live-stranger-1")
    stranger = make_resident_id("632322", dt.date(1990, 1, 1), 400)
    transport = ASGIWebSocketTransport(app=gw.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client, aconnect_ws(
            "/graphql", client, subprotocols=["graphql-transport-ws"],
            headers={"Authorization": f"Bearer {gw.token('citizen', sub=stranger)}"}) as ws:
        await subscribe(ws, matter["id"])
        message = await ws.receive_json(timeout=10)
        assert message["type"] == "complete"  # nothing was sent: the matter behaves as unknown
