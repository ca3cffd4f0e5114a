"""The shared call machinery: error translation, retries, budget, concurrency."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from connectors.errors import (
    CentreBadResponse,
    CentreThrottled,
    CentreTimeout,
    CentreUnavailable,
)
from connectors.http import CentreClient, client_options
from connectors.settings import CallPolicy, Retries, Timeouts
from onedoor.model import Centre

from .conftest import FAST, Handler

SECRET_BODY = "<html>Traceback at db-internal-07.corp: password=hunter2</html>"


def _client(handler: Handler | httpx.MockTransport, policy: CallPolicy = FAST) -> CentreClient:
    transport = (
        handler if isinstance(handler, httpx.MockTransport) else httpx.MockTransport(handler)
    )
    http = httpx.AsyncClient(**client_options("http://c.test", policy, transport=transport))
    return CentreClient(Centre.MEDIATION, policy, http)


def _counting(*responses: httpx.Response | Exception) -> tuple[Handler, list[int]]:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        item = responses[min(len(calls), len(responses)) - 1]
        if isinstance(item, Exception):
            raise item
        return item

    return handler, calls


async def test_5xx_is_retried_then_unavailable_without_leaking_body() -> None:
    handler, calls = _counting(httpx.Response(500, text=SECRET_BODY))
    client = _client(handler)
    with pytest.raises(CentreUnavailable) as info:
        await client.request("GET", "/x", params={"sfzh": "632301198001011237"})
    await client.aclose()
    assert len(calls) == 3
    err = info.value
    assert err.http_status == 500 and err.code == "CENTRE_UNAVAILABLE"
    for leak in ("db-internal", "hunter2", "c.test", "632301198001011237"):
        assert leak not in str(err) and leak not in err.detail
    assert client.stats.last_error_code == "CENTRE_UNAVAILABLE"


async def test_transient_failure_then_success() -> None:
    handler, calls = _counting(
        httpx.ConnectError("refused"), httpx.Response(503), httpx.Response(200, json={})
    )
    client = _client(handler)
    response = await client.request("GET", "/x")
    await client.aclose()
    assert response.status_code == 200 and len(calls) == 3
    assert client.stats.retries == 2


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (httpx.ConnectError("x"), CentreUnavailable),
        (httpx.RemoteProtocolError("dropped"), CentreUnavailable),
        (httpx.ReadError("reset"), CentreUnavailable),
        (httpx.ReadTimeout("slow"), CentreTimeout),
        (httpx.ConnectTimeout("slow"), CentreTimeout),
    ],
)
async def test_foreign_exceptions_are_translated(exc: Exception, expected: type) -> None:
    handler, _ = _counting(exc)
    client = _client(handler)
    with pytest.raises(expected) as info:
        await client.request("GET", "/x")
    await client.aclose()
    assert isinstance(info.value.__cause__, httpx.HTTPError)


async def test_writes_are_not_retried() -> None:
    handler, calls = _counting(httpx.Response(502))
    client = _client(handler)
    with pytest.raises(CentreUnavailable):
        await client.request("POST", "/x", json_body={})
    await client.aclose()
    assert len(calls) == 1


async def test_read_only_post_is_retried() -> None:
    handler, calls = _counting(httpx.Response(502), httpx.Response(200, json={}))
    client = _client(handler)
    await client.request("POST", "/x:batchGet", json_body={}, read_only=True)
    await client.aclose()
    assert len(calls) == 2


def _recorded_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The delays the client chose, without waiting them out (no wall clock)."""
    delays: list[float] = []
    real_sleep = asyncio.sleep

    async def record(delay: float) -> None:
        delays.append(delay)
        await real_sleep(0)

    monkeypatch.setattr("connectors.http.asyncio.sleep", record)
    return delays


async def test_retry_after_is_honoured_within_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    handler, calls = _counting(
        httpx.Response(429, headers={"Retry-After": "1"}), httpx.Response(200, json={})
    )
    policy = FAST.model_copy(update={"timeouts": Timeouts(total=3.0)})
    client = _client(handler, policy)
    delays = _recorded_sleeps(monkeypatch)
    jitter: list[tuple[float, float]] = []

    def widest(low: float, high: float) -> float:  # the jitter's upper end, recorded
        jitter.append((low, high))
        return high

    monkeypatch.setattr("connectors.http._jitter.uniform", widest)
    response = await client.request("GET", "/x")
    await client.aclose()
    assert response.status_code == 200 and len(calls) == 2
    # One wait: the centre's Retry-After plus the first attempt's jitter, whose
    # ceiling is the base backoff (under the cap).
    r = policy.retries
    assert jitter == [(0, min(r.backoff_max, r.backoff_base))]
    assert delays == [1.0 + min(r.backoff_max, r.backoff_base)]


async def test_retry_after_beyond_budget_gives_up_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    handler, calls = _counting(httpx.Response(429, headers={"Retry-After": "30"}))
    client = _client(handler)
    delays = _recorded_sleeps(monkeypatch)
    with pytest.raises(CentreThrottled) as info:
        await client.request("GET", "/x")
    await client.aclose()
    assert len(calls) == 1 and delays == []  # no waiting that could only end in a timeout
    assert info.value.http_status == 429


async def test_total_budget_bounds_a_slow_centre() -> None:
    attempts: list[str] = []

    async def slow(request: httpx.Request) -> httpx.Response:
        attempts.append(request.url.path)
        await asyncio.sleep(5)
        return httpx.Response(200)

    policy = CallPolicy(timeouts=Timeouts(read=10, total=0.2), retries=Retries(max_attempts=5))
    client = _client(httpx.MockTransport(slow), policy)
    with pytest.raises(CentreTimeout):
        await client.request("GET", "/x")
    await client.aclose()
    # A 200 would arrive after 5 s: the timeout came from the 0.2 s budget, and
    # no retry was started once it was spent.
    assert attempts == ["/x"]


async def test_budget_is_shared_by_requests_inside_it() -> None:
    async def slowish(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.15)
        return httpx.Response(200)

    client = _client(httpx.MockTransport(slowish), FAST)
    with pytest.raises(CentreTimeout):
        async with client.budget(0.4):
            for _ in range(5):  # each fits alone, together they exceed the budget
                await client.request("GET", "/x")
    await client.aclose()


async def test_concurrency_is_bounded_by_semaphore() -> None:
    active = peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.01)
        active -= 1
        return httpx.Response(200)

    client = _client(httpx.MockTransport(handler), FAST)  # max_concurrency=4
    # distinct paths: identical reads in flight would share one call (test_dedup.py)
    await asyncio.gather(*(client.request("GET", f"/x/{i}") for i in range(20)))
    await client.aclose()
    assert peak == 4


def test_policy_overrides_inherit_from_all() -> None:
    from connectors.settings import PolicyOverride

    merged = PolicyOverride(max_concurrency=3).apply_to(FAST)
    assert merged.max_concurrency == 3 and merged.timeouts == FAST.timeouts


def test_settings_reject_unknown_keys() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        Timeouts.model_validate({"connect": 1, "conect": 2})
    assert CentreBadResponse.code == "CENTRE_BAD_RESPONSE"
