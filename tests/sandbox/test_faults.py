"""Fault injection, latency and request statistics (the shared middleware)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from onedoor.model import Centre
from sandbox.client import get_stats, reset_stats, set_fault
from sandbox.runner import Sandbox

pytestmark = pytest.mark.asyncio(loop_scope="module")
KEY = {"X-Api-Key": "mediation-demo-key"}


@pytest_asyncio.fixture(loop_scope="module")
async def med(sb: Sandbox) -> AsyncIterator[str]:
    url = sb.urls[Centre.MEDIATION]
    await set_fault(url, "ok", 1.0, latency_ms=0, jitterMs=0, slowMs=5000)
    await reset_stats(url)
    yield url
    await set_fault(url, "ok", 1.0, latency_ms=0, jitterMs=0, slowMs=5000)


async def _get(url: str, **params: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as http:
        return await http.get(f"{url}/api/cases", headers=KEY, params=params)


async def test_down_drops_the_connection(med: str) -> None:
    await set_fault(med, "down")
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        await _get(med)
    await set_fault(med, "ok")
    assert (await _get(med)).status_code == 200


async def test_error_is_an_html_500_with_internals(med: str) -> None:
    await set_fault(med, "error")
    response = await _get(med)
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert "Traceback" in response.text and ".intranet." in response.text


async def test_throttle(med: str) -> None:
    await set_fault(med, "throttle")
    response = await _get(med)
    assert response.status_code == 429 and response.headers["retry-after"] == "1"


async def test_malformed_is_a_truncated_200(med: str) -> None:
    await set_fault(med, "malformed")
    response = await _get(med, pageSize="3")
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


async def test_partial_drops_half_of_a_batch(sb: Sandbox, med: str) -> None:
    ids = [sb.world.native_id(r) for r in list(sb.world.rows(Centre.MEDIATION))[:10]]
    await set_fault(med, "partial")
    body = (await _get(med, ids=",".join(ids))).json()
    assert 0 < len(body["items"]) <= 5 and body["missing"] == []
    async with httpx.AsyncClient() as http:
        url = f"{sb.urls[Centre.GOVERNANCE]}/graphql"
        await set_fault(sb.urls[Centre.GOVERNANCE], "partial")
        rows = list(sb.world.rows(Centre.GOVERNANCE))[:6]
        reps = [{"__typename": "GridEvent", "eventNo": sb.world.native_id(r)} for r in rows]
        got = (await http.post(url, json={"query": "query($r:[_Any!]!){_entities(representations:"
                                          "$r){... on GridEvent{eventNo}}}",
                                          "variables": {"r": reps}})).json()
        await set_fault(sb.urls[Centre.GOVERNANCE], "ok")
    assert sum(e is None for e in got["data"]["_entities"]) == 3


async def test_slow_and_latency(med: str) -> None:
    await set_fault(med, "slow", slowMs=300)
    start = time.perf_counter()
    assert (await _get(med)).status_code == 200
    assert time.perf_counter() - start >= 0.3
    await set_fault(med, "ok", latency_ms=150, jitterMs=50)
    start = time.perf_counter()
    await _get(med)
    assert time.perf_counter() - start >= 0.15


async def test_rate_zero_never_faults(med: str) -> None:
    await set_fault(med, "error", 0.0)
    assert [(await _get(med)).status_code for _ in range(5)] == [200] * 5
    await set_fault(med, "error", 0.5)
    codes = {(await _get(med)).status_code for _ in range(40)}
    assert codes == {200, 500}


async def test_stats_count_api_requests_including_faulted(sb: Sandbox, med: str) -> None:
    await _get(med)
    await set_fault(med, "throttle")
    await _get(med)
    stats = await get_stats(med)
    assert stats == {"centre": "MEDIATION", "total": 2, "byEndpoint": {"GET /api/cases": 2}}
    await reset_stats(med)
    assert (await get_stats(med))["total"] == 0
    lit = sb.urls[Centre.LITIGATION]
    await reset_stats(lit)
    async with httpx.AsyncClient() as http:
        await http.post(f"{lit}/cases:batchGet", headers={"X-Client-Id": "t"},
                        json={"caseNumbers": []})
    assert (await get_stats(lit))["byEndpoint"] == {"POST /cases:batchGet": 1}


async def test_fault_settings_validation(med: str) -> None:
    async with httpx.AsyncClient() as http:
        bad = await http.post(f"{med}/_sandbox/faults", json={"mode": "explode"})
        assert bad.status_code == 400
        current = (await http.get(f"{med}/_sandbox/faults")).json()
    assert current["mode"] == "ok"
    assert set(current) >= {"mode", "rate", "latencyMs", "jitterMs"}
