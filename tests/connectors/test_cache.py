"""The shared record cache: hits and misses, TTL and the centre's
``Cache-Control``, single flight on misses, failures and absence never kept,
searches primed but not cached, and the JSON codec its Redis level uses.
Time is a controllable clock: no sleeps, no timing assertions."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx
import pytest

from connectors.cache import CachingConnector, RecordCache
from connectors.codec import CodecError, dumps, loads
from connectors.errors import CentreUnavailable
from connectors.freshness import max_age
from connectors.legal import parse_batch as legal_batch
from connectors.mediation import MediationConnector
from connectors.mediation import parse_search as mediation_search
from connectors.petitions import parse_search as petitions_search
from connectors.settings import MediationSettings
from onedoor.model import CST, Centre, MatterRecord

from ..schema.fakes import FakeCentre, at, record
from .conftest import FAST, payload, raw

A = "632301198001011237"


class Clock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


def _setup(*ids: str, ttl: float = 5.0) -> tuple[FakeCentre, CachingConnector, RecordCache, Clock]:
    clock = Clock()
    fake = FakeCentre(Centre.MEDIATION, [record(Centre.MEDIATION, i, at=at(1), party=A) for i in ids])
    cache = RecordCache(ttl_seconds=ttl, max_entries=100, clock=clock)
    return fake, CachingConnector(fake, cache), cache, clock


async def test_hits_come_from_memory_and_one_call_fetches_the_misses() -> None:
    fake, conn, cache, _ = _setup("m1", "m2", "m3")
    assert set(await conn.get_many(["m1", "m2"])) == {"m1", "m2"}
    assert set(await conn.get_many(["m1", "m2", "m3", "m1"])) == {"m1", "m2", "m3"}
    assert fake.calls["get_many"] == 2
    assert fake.batches == [2, 1]  # the second call asked only for the miss
    assert (cache.stats.hits, cache.stats.misses, cache.stats.fetches) == (2, 3, 2)


async def test_entries_expire_after_the_ttl() -> None:
    fake, conn, _, clock = _setup("m1", ttl=5)
    await conn.get_many(["m1"])
    clock.now += 4.9
    await conn.get_many(["m1"])
    assert fake.calls["get_many"] == 1
    clock.now += 0.2
    await conn.get_many(["m1"])
    assert fake.calls["get_many"] == 2


async def test_absence_is_not_cached() -> None:
    fake, conn, _, _ = _setup("m1")
    assert await conn.get_many(["new"]) == {}
    fake.records.append(record(Centre.MEDIATION, "new", at=at(2)))  # filed a moment later
    assert set(await conn.get_many(["new"])) == {"new"}
    assert fake.calls["get_many"] == 2


async def test_fifty_concurrent_misses_make_one_inner_call() -> None:
    fake, conn, cache, _ = _setup("m1", "m2", "m3")
    gate = asyncio.Event()
    inner = fake.get_many

    async def slow(ids: list[str]) -> dict[str, MatterRecord]:
        await gate.wait()
        return dict(await inner(ids))

    fake.get_many = slow  # type: ignore[method-assign]
    tasks = [asyncio.ensure_future(conn.get_many(["m1", "m2"])) for _ in range(50)]
    tasks.append(asyncio.ensure_future(conn.get_many(["m2", "m3"])))  # overlaps: fetches only m3
    for _ in range(10):
        await asyncio.sleep(0)
    gate.set()
    results = await asyncio.gather(*tasks)
    assert all(set(r) == {"m1", "m2"} for r in results[:50]) and set(results[50]) == {"m2", "m3"}
    assert fake.batches == [2, 1]
    assert cache.stats.joined == 49 * 2 + 1


async def test_failures_reach_the_waiters_and_are_not_cached() -> None:
    fake, conn, cache, _ = _setup("m1")
    fake.fail = CentreUnavailable(Centre.MEDIATION, detail="down")
    results = await asyncio.gather(*(conn.get_many(["m1"]) for _ in range(10)), return_exceptions=True)
    assert all(isinstance(r, CentreUnavailable) for r in results)
    assert fake.calls["get_many"] == 1
    assert len(cache) == 0
    fake.fail = None
    assert set(await conn.get_many(["m1"])) == {"m1"}
    assert fake.calls["get_many"] == 2


async def test_searches_prime_records_but_are_not_cached() -> None:
    fake, conn, _, _ = _setup("m1", "m2")
    found = await conn.find_by_citizens([A])
    assert {r.native_id for r in found[A]} == {"m1", "m2"}
    await conn.find_by_citizens([A])
    assert fake.calls["find_by_citizens"] == 2  # a search always asks the centre
    assert set(await conn.get_many(["m1", "m2"])) == {"m1", "m2"}
    assert fake.calls["get_many"] == 0  # following a search result costs nothing


async def test_other_calls_pass_through() -> None:
    fake, conn, _, _ = _setup("m1")
    assert await conn.get_residents([A]) == {}
    assert fake.calls["get_residents"] == 1
    assert (await conn.health()).ok


# ---- Cache-Control, over a real connector on a mock transport ---------------------------


def _mediation(cache_control: str | None) -> tuple[CachingConnector, Clock, list[int]]:
    items = payload("mediation_search.json")["items"]
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        headers = {"Cache-Control": cache_control} if cache_control else {}
        return httpx.Response(200, json={"items": items, "missing": []}, headers=headers)

    clock = Clock()
    inner = MediationConnector(MediationSettings(base_url="http://m.test"), FAST,
                               transport=httpx.MockTransport(handler))
    return CachingConnector(inner, RecordCache(ttl_seconds=30, max_entries=100, clock=clock)), clock, calls


@pytest.mark.parametrize(("header", "kept_for"), [
    ("max-age=2", 2.0), ("public, s-maxage=3, max-age=60", 3.0), (None, 30.0), ("max-age=600", 30.0)])
async def test_a_centre_max_age_shortens_the_ttl(header: str | None, kept_for: float) -> None:
    conn, clock, calls = _mediation(header)
    ids = ["TJ632301202400001"]
    await conn.get_many(ids)
    clock.now += kept_for - 0.5
    await conn.get_many(ids)
    assert len(calls) == 1
    clock.now += 1
    await conn.get_many(ids)
    assert len(calls) == 2
    await conn.aclose()


@pytest.mark.parametrize("header", ["no-store", "private, max-age=60", "max-age=0", "no-cache"])
async def test_a_centre_may_forbid_shared_caching(header: str) -> None:
    conn, _, calls = _mediation(header)
    for _ in range(3):
        await conn.get_many(["TJ632301202400001"])
    assert len(calls) == 3
    await conn.aclose()


def test_max_age_parsing() -> None:
    assert max_age(None) is None and max_age("public") is None
    assert max_age('max-age="7"') == 7.0
    assert max_age("max-age=soon") == 0.0


# ---- codec ------------------------------------------------------------------------------


def _every_kind_of_record() -> list[MatterRecord]:
    records = list(mediation_search(payload("mediation_search.json"))[0])
    records += petitions_search(raw("petitions_search.xml"))[0]  # dates, tuples of flags
    records += legal_batch({"data": payload("legal_search.json")["data"]})
    records.append(record(Centre.LITIGATION, "L1", at=dt.datetime(2024, 3, 1, 1, tzinfo=dt.UTC)))
    return records


def test_codec_round_trips_records_exactly() -> None:
    records = _every_kind_of_record()
    assert any(r.extra for r in records)
    for original in records:
        back = loads(dumps(original))
        assert back == original
        assert back.received_at.tzinfo == original.received_at.tzinfo
        assert {k: type(v) for k, v in back.extra.items()} == {k: type(v) for k, v in original.extra.items()}
    cst = loads(dumps(records[0])).received_at
    assert cst.tzinfo is CST or getattr(cst.tzinfo, "key", None) == "Asia/Shanghai"


def test_codec_refuses_other_versions_and_unknown_values() -> None:
    blob = dumps(_every_kind_of_record()[0])
    with pytest.raises(CodecError):
        loads(blob.replace(b'"v":1', b'"v":99'))
    with pytest.raises(CodecError):
        loads(b"{not json")
    odd = record(Centre.MEDIATION, "x", at=at(1))
    with pytest.raises(CodecError):
        dumps(MatterRecord(**{**{f: getattr(odd, f) for f in odd.__slots__}, "extra": {"s": {1, 2}}}))
