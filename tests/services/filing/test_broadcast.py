"""Replicas that agree: a change notice published on one replica wakes the watchers
of another and drops that replica's cached copy — over real Redis pub/sub and
real PostgreSQL LISTEN/NOTIFY."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import pytest

from onedoor.model import Centre, MatterRecord
from services.filing.broadcast import (
    LocalBroadcast,
    PostgresBroadcast,
    RedisBroadcast,
    _Remote,
    open_broadcast,
)
from services.filing.updates import MatterUpdates
from tests.backing import require_postgres_url, require_redis_url

pytestmark = pytest.mark.services


class CachingCentre:
    """A connector with a record cache: counts what it is told to forget."""

    centre = Centre.MEDIATION

    def __init__(self) -> None:
        self.forgotten: list[str] = []

    def invalidate(self, native_ids: Iterable[str]) -> None:
        self.forgotten.extend(native_ids)

    async def get_many(self, native_ids: Sequence[str]) -> Mapping[str, MatterRecord]:
        return {}


def _redis(channel: str) -> _Remote:
    return RedisBroadcast(require_redis_url(), channel)


def _postgres(channel: str) -> _Remote:
    return PostgresBroadcast(require_postgres_url(), channel)


@pytest.fixture(params=[_redis, _postgres], ids=["redis", "postgres"])
def transport(request: pytest.FixtureRequest) -> Callable[[str], _Remote]:
    factory: Callable[[str], _Remote] = request.param
    return factory


async def _replica(broadcast: _Remote) -> tuple[MatterUpdates, CachingCentre]:
    centre = CachingCentre()
    updates = MatterUpdates({Centre.MEDIATION: centre}, broadcast=broadcast)  # type: ignore[dict-item]
    await updates.start()
    return updates, centre


async def test_a_callback_on_one_replica_wakes_a_subscriber_on_another(
        transport: Callable[[str], _Remote]) -> None:
    channel = f"onedoor_test_{uuid.uuid4().hex[:12]}"
    a_cast, b_cast = transport(channel), transport(channel)
    a, a_centre = await _replica(a_cast)
    b, b_centre = await _replica(b_cast)
    try:
        async with b.watch(Centre.MEDIATION, "TJ1") as on_b, a.watch(Centre.MEDIATION, "TJ1") as on_a:
            assert a.publish(Centre.MEDIATION, "TJ1") == 1  # woken here directly
            await asyncio.wait_for(on_b.get(), timeout=10)  # and there, through the broadcast
            assert b_centre.forgotten == ["TJ1"]  # B's cached copy is dropped
            await asyncio.sleep(0.3)
            assert on_a.qsize() == 1 and a_cast.received == 0  # A ignores its own notice
            assert a_centre.forgotten == []
            a.changed(Centre.MEDIATION, "TJ2")  # a write through A: B forgets, nobody is woken
            for _ in range(100):
                if b_centre.forgotten == ["TJ1", "TJ2"]:
                    break
                await asyncio.sleep(0.05)
            assert b_centre.forgotten == ["TJ1", "TJ2"]
    finally:
        await a.aclose()
        await b.aclose()


async def test_an_unreadable_notice_is_ignored() -> None:
    delivered: list[Any] = []
    class Silent(_Remote):
        async def _send(self, payload: str) -> None:
            return None

    remote = Silent()
    remote._deliver = lambda c, i: delivered.append((c, i))
    for payload in ("not json", '{"o": "x"}', '{"o": "x", "c": "NOPE", "i": "1"}',
                    '{"o": "x", "c": "MEDIATION", "i": 7}'):
        remote._receive(payload)
    remote._receive('{"o": "x", "c": "MEDIATION", "i": "TJ9"}')
    assert delivered == [(Centre.MEDIATION, "TJ9")]


def test_urls_choose_the_transport() -> None:
    assert isinstance(open_broadcast(None), LocalBroadcast)
    with pytest.raises(ValueError, match="unsupported"):
        open_broadcast("amqp://x")
