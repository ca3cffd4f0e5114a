"""Identical centre reads in flight at the same time share one network call —
within one GraphQL request and across concurrent ones (the client is shared) —
and every waiter gets the answer. Nothing is remembered once the call lands."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from connectors.errors import CentreUnavailable
from connectors.flight import Flights, request_key
from connectors.http import CentreClient, client_options
from connectors.mediation import MediationConnector
from connectors.settings import MediationSettings
from onedoor.model import Centre

from .conftest import FAST, payload


class Gated:
    """A centre that holds every request until released, counting them."""

    def __init__(self, status: int = 200) -> None:
        self.calls = 0
        self.status = status
        self.gate = asyncio.Event()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        await self.gate.wait()
        return httpx.Response(self.status, json={"path": request.url.path})


def _client(handler: Gated) -> CentreClient:
    http = httpx.AsyncClient(**client_options("http://c.test", FAST, transport=httpx.MockTransport(handler)))
    return CentreClient(Centre.MEDIATION, FAST, http)


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_twenty_identical_reads_make_one_call() -> None:
    centre = Gated()
    client = _client(centre)
    reads = [asyncio.ensure_future(client.request("GET", "/api/cases", params={"ids": "a,b"}))
             for _ in range(20)]
    await _settle()
    centre.gate.set()
    responses = await asyncio.gather(*reads)
    assert centre.calls == 1
    assert all(r.json() == {"path": "/api/cases"} for r in responses)
    assert (client.stats.requests, client.stats.deduplicated) == (1, 19)
    await client.aclose()


async def test_different_params_bodies_and_writes_are_not_shared() -> None:
    centre = Gated()
    client = _client(centre)
    calls = [
        client.request("GET", "/api/cases", params={"ids": "a"}),
        client.request("GET", "/api/cases", params={"ids": "b"}),
        client.request("POST", "/graphql", json_body={"q": 1}, read_only=True),
        client.request("POST", "/graphql", json_body={"q": 2}, read_only=True),
        client.request("POST", "/api/cases", json_body={"x": 1}),  # a write: never shared
        client.request("POST", "/api/cases", json_body={"x": 1}),
    ]
    tasks = [asyncio.ensure_future(c) for c in calls]
    await _settle()
    centre.gate.set()
    await asyncio.gather(*tasks)
    assert centre.calls == 6
    assert client.stats.deduplicated == 0
    await client.aclose()


async def test_failures_reach_every_waiter_and_are_not_remembered() -> None:
    centre = Gated(status=503)
    client = _client(centre)
    client.policy = FAST.model_copy(update={"retries": FAST.retries.model_copy(update={"max_attempts": 1})})
    reads = [asyncio.ensure_future(client.request("GET", "/x")) for _ in range(5)]
    await _settle()
    centre.gate.set()
    results = await asyncio.gather(*reads, return_exceptions=True)
    assert all(isinstance(r, CentreUnavailable) for r in results)
    assert centre.calls == 1

    centre.status = 200
    assert (await client.request("GET", "/x")).status_code == 200  # a fresh call, not the failure
    assert centre.calls == 2
    await client.aclose()


async def test_the_caller_that_started_a_call_may_leave_without_failing_the_others() -> None:
    centre = Gated()
    client = _client(centre)
    first = asyncio.ensure_future(client.request("GET", "/x"))
    await _settle()
    second = asyncio.ensure_future(client.request("GET", "/x"))
    await _settle()
    first.cancel()
    await _settle()
    centre.gate.set()
    assert (await second).status_code == 200
    assert first.cancelled()
    assert centre.calls == 1
    await client.aclose()


async def test_concurrent_get_many_through_a_connector_shares_the_batch_read() -> None:
    items = payload("mediation_search.json")["items"]
    calls = 0
    gate = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        await gate.wait()
        return httpx.Response(200, json={"items": items, "missing": []})

    conn = MediationConnector(MediationSettings(base_url="http://m.test"), FAST,
                              transport=httpx.MockTransport(handler))
    ids = [i["caseNo"] for i in items]
    tasks = [asyncio.ensure_future(conn.get_many(ids)) for _ in range(20)]  # 20 "requests"
    await _settle()
    gate.set()
    results = await asyncio.gather(*tasks)
    assert calls == 1
    assert all(set(r) == set(ids) for r in results)
    await conn.aclose()


def test_request_key_normalises_what_does_not_change_the_request() -> None:
    assert request_key("get", "/x", {"a": "1"}, {"b": 1, "c": 2}) == request_key(
        "GET", "/x", [("a", "1")], {"c": 2, "b": 1})
    assert request_key("GET", "/x", {"a": "1"}) != request_key("GET", "/x", {"a": "2"})
    assert request_key("POST", "/x", content=b"1") != request_key("POST", "/x", content=b"2")
    assert request_key("GET", "/x", headers={"Idempotency-Key": "k1"}) != request_key(
        "GET", "/x", headers={"Idempotency-Key": "k2"})


async def test_flights_forget_a_landed_call() -> None:
    flights: Flights[str, int] = Flights()
    calls = 0

    async def one() -> int:
        nonlocal calls
        calls += 1
        return calls

    assert await flights.run("k", one) == (1, False)
    assert await flights.run("k", one) == (2, False)
    assert len(flights) == 0
    with pytest.raises(ZeroDivisionError):
        await flights.run("boom", lambda: asyncio.sleep(0, 1 // 0))
