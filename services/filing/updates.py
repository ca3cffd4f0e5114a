"""Live matter updates for ``subscription matterUpdates``: a small in-process hub.

Centres with webhooks (MEDIATION, LITIGATION, GOVERNANCE) call the gateway back
on a status change; the others (PETITIONS, LEGAL_SERVICES) are polled, but
only while somebody watches that matter. A notification carries no data: the
subscriber re-reads the record from the centre, so a forged or stale callback
costs one read and can never inject a status.

With several replicas, every change notice also goes to the others
(:mod:`services.filing.broadcast`): a callback that reaches one replica wakes
the subscribers of every replica, and each drops its cached copy of the record.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping

from connectors.base import Connector
from connectors.errors import CentreError
from onedoor.model import Centre, MatterRecord

from .broadcast import Broadcast, LocalBroadcast

__all__ = ["POLLED_CENTRES", "MatterUpdates", "fresh_read", "webhook_matter_id"]

log = logging.getLogger("onedoor.updates")
POLLED_CENTRES = frozenset({Centre.PETITIONS, Centre.LEGAL_SERVICES})
# where each centre's callback body names the matter
_WEBHOOK_ID = {Centre.MEDIATION: "caseNo", Centre.LITIGATION: "caseNumber",
               Centre.GOVERNANCE: "eventNo"}

Key = tuple[Centre, str]


async def fresh_read(connector: Connector, native_id: str) -> MatterRecord | None:
    """The record as the centre holds it now: a change notice means any cached copy
    (a caching connector offers ``invalidate``) is stale."""
    invalidate = getattr(connector, "invalidate", None)
    if callable(invalidate):
        invalidate([native_id])
    return (await connector.get_many([native_id])).get(native_id)


def webhook_matter_id(centre: Centre, body: object) -> str | None:
    """The native id in a centre's callback body, or ``None`` if it names none."""
    field = _WEBHOOK_ID.get(centre)
    value = body.get(field) if isinstance(body, dict) and field else None
    return value if isinstance(value, str) and value else None


class MatterUpdates:
    def __init__(self, connectors: Mapping[Centre, Connector], *, poll_seconds: float = 10.0,
                 broadcast: Broadcast | None = None) -> None:
        self._connectors = connectors
        self.poll_seconds = poll_seconds
        self._watchers: dict[Key, set[asyncio.Queue[None]]] = {}
        self._pollers: dict[Key, asyncio.Task[None]] = {}
        self.broadcast: Broadcast = broadcast or LocalBroadcast()

    async def start(self, broadcast: Broadcast | None = None) -> None:
        """Join the other replicas (``None``: keep the current, in-process by default)."""
        if broadcast is not None:
            self.broadcast = broadcast
        await self.broadcast.start(self._from_another_replica)

    async def aclose(self) -> None:
        await self.broadcast.aclose()

    def publish(self, centre: Centre, native_id: str) -> int:
        """This matter changed: wake every watcher here and tell the other replicas.
        Returns how many watchers were woken here."""
        self.broadcast.send(centre, native_id)
        return self._wake(centre, native_id)

    def changed(self, centre: Centre, native_id: str) -> None:
        """A write through this replica changed the record: the others drop their copy."""
        self.broadcast.send(centre, native_id)

    def _wake(self, centre: Centre, native_id: str) -> int:
        queues = self._watchers.get((centre, native_id), set())
        for queue in queues:
            queue.put_nowait(None)
        return len(queues)

    def _from_another_replica(self, centre: Centre, native_id: str) -> None:
        connector = self._connectors.get(centre)
        invalidate = getattr(connector, "invalidate", None)
        if callable(invalidate):  # this replica's cached copy predates the change
            invalidate([native_id])
        self._wake(centre, native_id)

    @contextlib.asynccontextmanager
    async def watch(self, centre: Centre, native_id: str) -> AsyncIterator[asyncio.Queue[None]]:
        key = (centre, native_id)
        queue: asyncio.Queue[None] = asyncio.Queue()
        self._watchers.setdefault(key, set()).add(queue)
        if centre in POLLED_CENTRES and key not in self._pollers:
            self._pollers[key] = asyncio.create_task(self._poll(key))
        try:
            yield queue
        finally:
            watchers = self._watchers.get(key, set())
            watchers.discard(queue)
            if not watchers:
                self._watchers.pop(key, None)
                poller = self._pollers.pop(key, None)
                if poller is not None:
                    poller.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await poller

    async def _poll(self, key: Key) -> None:
        """Publish when the centre's status of this matter changes (no webhook to tell us)."""
        centre, native_id = key
        last: tuple[str, int] | None = None
        while True:
            try:
                record = await fresh_read(self._connectors[centre], native_id)
            except CentreError as exc:
                log.info("poll %s failed: %s", centre.value, exc.code)
                record = None
            if record is not None:
                seen = (record.centre_status, len(record.events))
                if last is not None and seen != last:
                    self.publish(centre, native_id)
                last = seen
            await asyncio.sleep(self.poll_seconds)
