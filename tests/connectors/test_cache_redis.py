"""The Redis level of the record cache, over a real Redis (unique key prefix per
run): replicas share fetched records; a Redis that is down or slow costs a
request nothing but the miss — the gateway keeps serving, degraded, and says
so once per outage. Without Redis the round-trip tests skip (fail with
``ONEDOOR_REQUIRE_SERVICES=1``); the outage tests need no Redis at all."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import socket
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from connectors.cache import CachingConnector, RecordCache
from connectors.redis_store import RedisRecordStore
from connectors.registry import aclose_all, build_connectors
from connectors.settings import CacheSettings, demo_settings
from onedoor.model import CST, Centre
from tests.backing import require_redis_url

from ..gateway.harness import URLS
from ..schema.fakes import FakeCentre, record
from .test_cache import Clock

pytestmark = pytest.mark.services
WHEN = dt.datetime(2024, 3, 1, 9, tzinfo=CST)


def _replica(url: str, prefix: str, clock: Clock, retry: float = 5.0) -> tuple[FakeCentre, CachingConnector]:
    fake = FakeCentre(Centre.PETITIONS, [record(Centre.PETITIONS, f"XF{i}", at=WHEN) for i in range(3)])
    store = RedisRecordStore.from_url(url, prefix=prefix, timeout=0.5, connect_timeout=0.5,
                                      retry_seconds=retry, clock=clock)
    cache = RecordCache(ttl_seconds=20, max_entries=100, shared=store, clock=clock)
    return fake, CachingConnector(fake, cache)


@contextlib.asynccontextmanager
async def _redis() -> AsyncIterator[tuple[str, str, aioredis.Redis]]:
    url = require_redis_url()
    prefix = f"onedoor-test:{uuid.uuid4().hex}:"
    client = aioredis.Redis.from_url(url)
    try:
        yield url, prefix, client
    finally:
        keys = [k async for k in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def test_a_record_fetched_by_one_replica_is_served_to_another() -> None:
    async with _redis() as (url, prefix, client):
        clock = Clock()
        fake1, one = _replica(url, prefix, clock)
        fake2, two = _replica(url, prefix, clock)
        first = await one.get_many(["XF0", "XF1"])
        await one.cache.drain()  # Redis writes happen after the answer
        ttl = await client.pttl(f"{prefix}PETITIONS:XF0")
        assert 0 < ttl <= 20_000

        second = await two.get_many(["XF0", "XF1", "XF2"])
        assert second["XF0"] == first["XF0"] and second["XF1"] == first["XF1"]
        assert (fake1.calls["get_many"], fake2.batches) == (1, [1])  # replica two asked only for XF2
        assert two.cache.shared is not None and two.cache.shared.stats.hits == 2
        await two.get_many(["XF0"])  # now in its own memory
        assert two.cache.shared.stats.hits == 2
        await one.aclose()
        await two.aclose()


async def test_unreadable_entries_are_misses() -> None:
    async with _redis() as (url, prefix, client):
        fake, conn = _replica(url, prefix, Clock())
        await client.set(f"{prefix}PETITIONS:XF0", b'{"v":0,"record":{}}', px=10_000)
        assert set(await conn.get_many(["XF0"])) == {"XF0"}
        assert fake.calls["get_many"] == 1
        await conn.aclose()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_redis_down_keeps_serving_and_logs_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="onedoor.connectors.cache")
    clock = Clock()
    fake, conn = _replica(f"redis://127.0.0.1:{_closed_port()}/0", "t:", clock, retry=5)
    store = conn.cache.shared
    assert store is not None
    for i in range(3):
        assert set(await conn.get_many([f"XF{i}"])) == {f"XF{i}"}
    await conn.cache.drain()
    assert fake.calls["get_many"] == 3
    assert store.degraded and store.stats.outages == 1
    errors = store.stats.errors
    assert store.stats.skipped >= 2  # not asked again during the retry period
    clock.now += 5
    conn.cache.invalidate(Centre.PETITIONS, ["XF0"])
    assert set(await conn.get_many(["XF0"])) == {"XF0"}
    assert store.stats.errors > errors and store.stats.outages == 1  # retried: still the same outage
    warnings = [r for r in caplog.records if "unavailable" in r.getMessage()]
    assert len(warnings) == 1
    await conn.aclose()


async def test_slow_redis_is_cut_off_by_the_timeout() -> None:
    accepted: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)  # accept, never answer

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        fake = FakeCentre(Centre.PETITIONS, [record(Centre.PETITIONS, "XF0", at=WHEN)])
        store = RedisRecordStore.from_url(f"redis://127.0.0.1:{port}/0", prefix="t:", timeout=0.05,
                                          connect_timeout=0.05, clock=Clock())
        conn = CachingConnector(fake, RecordCache(ttl_seconds=5, max_entries=10, shared=store))
        assert set(await conn.get_many(["XF0"])) == {"XF0"}
        assert store.degraded and store.stats.errors == 1
        await conn.aclose()
    finally:
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_build_connectors_wires_redis_from_settings() -> None:
    settings = demo_settings(URLS, "http://127.0.0.1:9100").model_copy(update={
        "cache": CacheSettings.model_validate({"redis_url": f"redis://127.0.0.1:{_closed_port()}/0"})})
    connectors = build_connectors(settings)
    try:
        conn = connectors[Centre.MEDIATION]
        assert isinstance(conn, CachingConnector) and conn.cache.shared is not None
        assert {id(c.cache) for c in connectors.values() if isinstance(c, CachingConnector)} == {id(conn.cache)}
    finally:
        await aclose_all(connectors)
