"""The circuit breaker: opens after N consecutive failures, fails fast with no
network call while open, lets one probe through after the cool-down, closes on
an answer. Network calls are counted at an ``httpx.MockTransport``; time is a
controllable clock."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from connectors.breaker import BreakerState, CircuitBreaker, breaker_states
from connectors.errors import CentreThrottled, CentreTimeout, CentreUnavailable
from connectors.http import CentreClient, client_options
from connectors.registry import aclose_all, build_connectors
from connectors.settings import (
    BreakerSettings,
    CallPolicy,
    PolicyOverride,
    Retries,
    Timeouts,
    demo_settings,
)
from onedoor.model import Centre

from ..gateway.harness import URLS

ONE_TRY = CallPolicy(
    timeouts=Timeouts(connect=0.5, read=0.5, total=2.0),
    retries=Retries(max_attempts=1),
    breaker=BreakerSettings(failure_threshold=3, reset_seconds=30),
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Centre503:
    """Answers 503 until ``healthy``; counts every request that reached it."""

    def __init__(self) -> None:
        self.calls = 0
        self.healthy = False
        self.gate: asyncio.Event | None = None

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.gate is not None:
            await self.gate.wait()
        return httpx.Response(200, json={"ok": True}) if self.healthy else httpx.Response(503)


def _client(centre: Centre503 | httpx.MockTransport, clock: Clock, policy: CallPolicy = ONE_TRY) -> CentreClient:
    transport = centre if isinstance(centre, httpx.MockTransport) else httpx.MockTransport(centre)
    client = CentreClient(Centre.PETITIONS, policy,
                          httpx.AsyncClient(**client_options("http://c.test", policy, transport=transport)))
    client.breaker = CircuitBreaker(Centre.PETITIONS, policy.breaker, counts=client.stats, clock=clock)
    return client


async def _fail_times(client: CentreClient, n: int) -> None:
    for i in range(n):
        with pytest.raises(CentreUnavailable):
            await client.request("GET", f"/xf/item/{i}")


async def test_opens_after_threshold_then_fails_fast_without_network() -> None:
    centre, clock = Centre503(), Clock()
    client = _client(centre, clock)
    await _fail_times(client, 2)
    assert client.breaker.state is BreakerState.CLOSED
    await _fail_times(client, 1)
    assert client.breaker.state is BreakerState.OPEN
    assert centre.calls == 3

    for _ in range(10):
        with pytest.raises(CentreUnavailable) as caught:
            await client.request("GET", "/xf/query")
        assert caught.value.detail == "breaker open"
    assert centre.calls == 3  # not one more request reached the centre
    assert client.stats.rejected == 10
    assert client.stats.breaker_opened == 1
    await client.aclose()


async def test_half_open_lets_exactly_one_probe_through_and_closes_on_success() -> None:
    centre, clock = Centre503(), Clock()
    client = _client(centre, clock)
    await _fail_times(client, 3)
    clock.now += 29
    assert client.breaker.state is BreakerState.OPEN
    clock.now += 1
    assert client.breaker.state is BreakerState.HALF_OPEN

    centre.healthy, centre.gate = True, asyncio.Event()
    probe = asyncio.ensure_future(client.request("GET", "/xf/item/probe"))
    for _ in range(20):  # let the probe reach the centre
        await asyncio.sleep(0)
    for i in range(5):  # while it is out, everyone else still fails fast
        with pytest.raises(CentreUnavailable):
            await client.request("GET", f"/xf/item/other-{i}")
    assert centre.calls == 4
    centre.gate.set()
    assert (await probe).status_code == 200
    assert client.breaker.state is BreakerState.CLOSED

    await client.request("GET", "/xf/item/after")
    assert centre.calls == 5
    await client.aclose()


async def test_failed_probe_reopens_for_another_cool_down() -> None:
    centre, clock = Centre503(), Clock()
    client = _client(centre, clock)
    await _fail_times(client, 3)
    clock.now += 30
    await _fail_times(client, 1)  # the probe
    assert client.breaker.state is BreakerState.OPEN
    assert (centre.calls, client.stats.breaker_opened) == (4, 2)
    await _fail_times(client, 3)
    assert centre.calls == 4
    clock.now += 30
    centre.healthy = True
    assert (await client.request("GET", "/xf/query")).status_code == 200
    assert client.breaker.state is BreakerState.CLOSED
    await client.aclose()


async def test_answers_reset_the_count_and_throttling_is_not_a_failure() -> None:
    replies = iter([503, 503, 404, 503, 503, 429, 429, 429, 503])
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(next(replies))

    clock = Clock()
    client = _client(httpx.MockTransport(handler), clock)
    await _fail_times(client, 2)
    assert (await client.request("GET", "/x")).status_code == 404  # an answer: count back to 0
    await _fail_times(client, 2)
    for _ in range(3):
        with pytest.raises(CentreThrottled):
            await client.request("GET", "/x")
    assert client.breaker.state is BreakerState.CLOSED  # 429 says "up, come back later"
    await _fail_times(client, 1)
    assert client.breaker.state is BreakerState.CLOSED  # the 429s answered: count restarted
    assert calls == 9
    await client.aclose()


async def test_timeouts_count() -> None:
    async def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    client = _client(httpx.MockTransport(hang), Clock())
    for _ in range(3):
        with pytest.raises(CentreTimeout):
            await client.request("GET", "/x")
    assert client.breaker.state is BreakerState.OPEN
    await client.aclose()


async def test_disabled_breaker_never_opens() -> None:
    centre = Centre503()
    policy = ONE_TRY.model_copy(update={"breaker": BreakerSettings(enabled=False, failure_threshold=1)})
    client = _client(centre, Clock(), policy)
    await _fail_times(client, 5)
    assert centre.calls == 5
    await client.aclose()


def test_breaker_settings_follow_the_all_policy_with_per_centre_overrides() -> None:
    settings = demo_settings(URLS, "http://127.0.0.1:9100", policy=ONE_TRY)
    strict = BreakerSettings(failure_threshold=1, reset_seconds=5)
    petitions = settings.petitions.model_copy(update={"policy": PolicyOverride(breaker=strict)})
    settings = settings.model_copy(update={"petitions": petitions})
    assert settings.policy_for(Centre.PETITIONS).breaker == strict
    assert settings.policy_for(Centre.MEDIATION).breaker.failure_threshold == 3
    with pytest.raises(ValueError, match="extra"):
        BreakerSettings.model_validate({"threshold": 3})


async def test_states_are_visible_through_the_cache_wrappers() -> None:
    connectors = build_connectors(demo_settings(URLS, "http://127.0.0.1:9100"))
    try:
        states = breaker_states(connectors)
        assert states == dict.fromkeys(Centre, BreakerState.CLOSED)
    finally:
        await aclose_all(connectors)
