"""Change notices between gateway replicas: "this matter changed" reaches every replica.

A centre's callback reaches one replica; the subscriber following that matter
may be connected to another. A filing written through one replica leaves a
stale copy in the others' record caches. Each replica therefore sends a notice
— the centre and the native id, nothing else — to every other, which wakes its
own watchers and drops its cached copy of that record:

    in-process (default)     one replica: nothing to send
    redis://…                Redis pub/sub on one channel
    postgresql://…           PostgreSQL LISTEN/NOTIFY on one channel

A notice carries no data: the receiver re-reads the record from the centre,
so a lost notice costs freshness (the poll and the cache TTL still bound it),
and a forged one costs a read. Each replica ignores its own notices.

Example::

    broadcast = open_broadcast("redis://cache:6379/0")
    await broadcast.start(on_notice)          # on_notice(centre, native_id)
    broadcast.send(Centre.MEDIATION, "TJ…")   # fire and forget
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any, Protocol

from onedoor.model import Centre

__all__ = ["Broadcast", "LocalBroadcast", "PostgresBroadcast", "RedisBroadcast", "open_broadcast"]

log = logging.getLogger("onedoor.broadcast")
CHANNEL = "onedoor_matter_changes"
Deliver = Callable[[Centre, str], None]


class Broadcast(Protocol):
    async def start(self, deliver: Deliver) -> None: ...

    def send(self, centre: Centre, native_id: str) -> None: ...

    async def aclose(self) -> None: ...


class LocalBroadcast:
    """One replica: its own watchers are woken directly, there is nobody else to tell."""

    async def start(self, deliver: Deliver) -> None:
        return None

    def send(self, centre: Centre, native_id: str) -> None:
        return None

    async def aclose(self) -> None:
        return None


class _Remote(abc.ABC):
    """Shared by the two transports: who we are, the encoding, fire-and-forget sends."""

    def __init__(self) -> None:
        self.origin = uuid.uuid4().hex
        self._deliver: Deliver | None = None
        self._sending: set[asyncio.Task[None]] = set()
        self.received = 0  # notices from other replicas, for tests and metrics

    def _encode(self, centre: Centre, native_id: str) -> str:
        return json.dumps({"o": self.origin, "c": centre.value, "i": native_id}, separators=(",", ":"))

    def _receive(self, payload: str | bytes) -> None:
        try:
            notice: Any = json.loads(payload)
            centre, native_id = Centre(notice["c"]), notice["i"]
        except (ValueError, KeyError, TypeError):
            log.warning("broadcast: an unreadable notice was ignored")
            return
        if notice.get("o") == self.origin or not isinstance(native_id, str) or self._deliver is None:
            return
        self.received += 1
        self._deliver(centre, native_id)

    def send(self, centre: Centre, native_id: str) -> None:
        task = asyncio.get_running_loop().create_task(self._send(self._encode(centre, native_id)))
        self._sending.add(task)
        task.add_done_callback(self._sent)

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # Freshness, not correctness: polls and the cache TTL still bound staleness.
            log.warning("broadcast: a notice was not sent (%s)", type(task.exception()).__name__)

    @abc.abstractmethod
    async def _send(self, payload: str) -> None:
        """Put one encoded notice on the shared channel."""

    async def _drain(self) -> None:
        for task in list(self._sending):
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await task


class RedisBroadcast(_Remote):
    def __init__(self, url: str, channel: str = CHANNEL) -> None:
        super().__init__()
        import redis.asyncio as aioredis

        self.channel = channel
        self._client = aioredis.Redis.from_url(url)
        self._listener: asyncio.Task[None] | None = None

    async def start(self, deliver: Deliver) -> None:
        self._deliver = deliver
        pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(self.channel)
        self._listener = asyncio.get_running_loop().create_task(self._listen(pubsub))

    async def _listen(self, pubsub: Any) -> None:
        try:
            while True:
                message = await pubsub.get_message(timeout=1.0)
                if message is not None and message.get("type") == "message":
                    self._receive(message["data"])
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    async def _send(self, payload: str) -> None:
        await self._client.publish(self.channel, payload)

    async def aclose(self) -> None:
        await self._drain()
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self._client.aclose()


class PostgresBroadcast(_Remote):
    def __init__(self, url: str, channel: str = CHANNEL) -> None:
        super().__init__()
        self.url = url.split("?", 1)[0]  # a ``?schema=`` suffix means nothing to LISTEN
        self.channel = channel
        self._listen_conn: Any = None
        self._send_conn: Any = None
        self._lock = asyncio.Lock()

    async def start(self, deliver: Deliver) -> None:
        import asyncpg

        self._deliver = deliver
        self._listen_conn = await asyncpg.connect(self.url)
        self._send_conn = await asyncpg.connect(self.url)
        await self._listen_conn.add_listener(self.channel, self._notified)

    def _notified(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        self._receive(payload)

    async def _send(self, payload: str) -> None:
        async with self._lock:  # one connection, one statement at a time
            await self._send_conn.execute("SELECT pg_notify($1, $2)", self.channel, payload)

    async def aclose(self) -> None:
        await self._drain()
        for conn in (self._listen_conn, self._send_conn):
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.close()


def open_broadcast(url: str | None) -> Broadcast:
    """``None``: in-process; ``redis://`` or ``rediss://``; ``postgresql://`` or ``postgres://``."""
    if url is None:
        return LocalBroadcast()
    scheme = url.split(":", 1)[0].lower()
    if scheme in ("redis", "rediss"):
        return RedisBroadcast(url)
    if scheme in ("postgresql", "postgres"):
        return PostgresBroadcast(url)
    raise ValueError(f"broadcast: unsupported URL scheme {scheme!r} (redis:// or postgresql://)")
