"""Security point 4: subscription events are audited, withheld when the audit cannot
be written, and end when the token expires — over a real sandbox and the filing
service, subscribed the way a browser's graphql-ws client does (token in
``connection_init``)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from httpx_ws import AsyncWebSocketSession, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport

from onedoor.model import Centre
from policy.personas import persona_claims
from sandbox.idp import mint_token
from tests.e2e.filing_harness import Gateway, start_gateway
from tests.e2e.test_matter_updates import APPLICANT, change_status, file

pytestmark = pytest.mark.asyncio(loop_scope="module")
SUBSCRIBE = "subscription U($id: ID!) { matterUpdates(id: $id) { id centreStatus parties { name } } }"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def gw(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Gateway]:
    async with start_gateway(tmp_path_factory.mktemp("sub-security")) as gateway:
        gateway.service.updates.poll_seconds = 0.05
        async with httpx.AsyncClient() as direct:  # MEDIATION calls back on each change (signed)
            hook = await direct.post(f"{gateway.sandbox.urls[Centre.MEDIATION]}/_sandbox/webhooks",
                                     json={"url": f"{gateway.url}/webhooks/mediation"})
        assert hook.status_code == 201
        yield gateway


def _token(gw: Gateway, ttl: int) -> str:
    claims = persona_claims("citizen", sub=APPLICANT)
    return mint_token(gw.sandbox.state_dir, {"iss": gw.sandbox.idp_url, **claims}, ttl=ttl)


@contextlib.asynccontextmanager
async def following(gw: Gateway, matter_id: str, token: str) -> AsyncIterator[AsyncWebSocketSession]:
    async with httpx.AsyncClient(transport=ASGIWebSocketTransport(app=gw.app),
                                 base_url="http://gateway") as client, aconnect_ws(
            "/graphql", client, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send_json({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        assert (await ws.receive_json(timeout=10))["type"] == "connection_ack"
        await ws.send_json({"id": "s", "type": "subscribe",
                            "payload": {"query": SUBSCRIBE, "variables": {"id": matter_id}}})
        yield ws


async def _records(gw: Gateway) -> list[Any]:
    records, _ = await gw.audit.query(APPLICANT, first=500)
    return records


async def test_every_event_is_audited_before_delivery(gw: Gateway) -> None:
    matter = await file(gw, "邻里", "sub-audit-1")
    before = len(await _records(gw))
    async with following(gw, matter["id"], _token(gw, 600)) as ws:
        first = await ws.receive_json(timeout=10)
        assert first["type"] == "next" and first["payload"]["data"]["matterUpdates"]["parties"]
        await change_status(gw, Centre.MEDIATION, matter["reference"], "XXTJ")
        second = await ws.receive_json(timeout=10)
        assert second["type"] == "next"
    records = await _records(gw)
    streamed = [r for r in records[before:] if r.operation_name == "U"]
    assert len(streamed) == 2  # one record per delivered event, each naming the person
    assert all(APPLICANT in r.citizens for r in streamed)


async def test_an_event_is_withheld_when_the_audit_cannot_be_written(
        gw: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    matter = await file(gw, "邻里", "sub-audit-2")
    async with following(gw, matter["id"], _token(gw, 600)) as ws:
        assert (await ws.receive_json(timeout=10))["type"] == "next"

        async def broken(*_: object) -> None:
            raise OSError("disk full")

        monkeypatch.setattr(gw.audit, "append", broken)
        await change_status(gw, Centre.MEDIATION, matter["reference"], "XXTJ")
        message = await ws.receive_json(timeout=10)
    assert message["payload"]["data"] is None
    assert [e["extensions"]["code"] for e in message["payload"]["errors"]] == ["AUDIT_UNAVAILABLE"]


async def test_the_subscription_ends_when_the_token_expires(gw: Gateway) -> None:
    matter = await file(gw, "邻里", "sub-expiry-1")
    token = _token(gw, 3)
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=3)
    async with following(gw, matter["id"], token) as ws:
        assert (await ws.receive_json(timeout=10))["type"] == "next"
        ending = await ws.receive_json(timeout=15)  # nothing changes: only the expiry ends it
        assert dt.datetime.now(dt.UTC) >= expires - dt.timedelta(seconds=1)
        assert [e["extensions"]["code"] for e in ending["payload"]["errors"]] == ["UNAUTHENTICATED"]
        assert (await ws.receive_json(timeout=10))["type"] == "complete"
        await asyncio.sleep(0)



async def test_a_centre_the_caller_may_not_read_is_never_called(gw: Gateway) -> None:
    """Point 9: a mediation:read-only caller following a petition makes no PETITIONS call."""
    petition = await file(gw, "申诉求决", "sub-scope-1")
    claims = persona_claims("caseworker", scopes="mediation:read")
    token = mint_token(gw.sandbox.state_dir, {"iss": gw.sandbox.idp_url, **claims}, ttl=600)
    url = gw.sandbox.urls[Centre.PETITIONS]
    async with httpx.AsyncClient() as direct:
        before = sum((await direct.get(f"{url}/_sandbox/stats")).json()["byEndpoint"].values())
        async with following(gw, petition["id"], token) as ws:
            assert (await ws.receive_json(timeout=10))["type"] == "complete"  # as if it did not exist
        after = sum((await direct.get(f"{url}/_sandbox/stats")).json()["byEndpoint"].values())
    assert after == before
