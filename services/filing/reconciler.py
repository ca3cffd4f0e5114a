"""Settling unfinished filings while the gateway runs, not only at start.

A crash can leave a row ``pending``; a transfer whose source centre was down, or
an audit store that failed for a moment, leaves it ``created``. The
:class:`Reconciler` runs :meth:`FilingService.reconcile` once at start and then
every ``every`` seconds in the app's lifespan. It never races a request that is
still completing a row: the service takes only rows whose lease has expired (or
was given back) and whose key no request of this process holds.

    reconciler = Reconciler(service, every=30.0)
    await reconciler.run_once()   # at start
    reconciler.start()            # then periodically
    ...
    await reconciler.stop()       # cancelled and awaited: nothing outlives the app
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .service import FilingService

__all__ = ["Reconciler"]

log = logging.getLogger("onedoor.filing")
TASK_NAME = "onedoor-reconcile"


class Reconciler:
    def __init__(self, service: FilingService, every: float) -> None:
        self.service = service
        self.every = every
        self.passes = 0  # completed passes, failed ones included
        self.settled = 0  # rows a pass finished, over all passes
        self._task: asyncio.Task[None] | None = None
        self._progress = asyncio.Condition()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name=TASK_NAME)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            await self.run_once()

    async def run_once(self) -> int:
        """One pass; a failure (the store unreachable, say) is logged and the next pass
        tries again — it must not end the loop."""
        try:
            settled = await self.service.reconcile()
        except Exception as exc:
            log.error("reconcile pass failed: %s", type(exc).__name__)
            settled = 0
        if settled:
            log.info("reconciled %d unfinished submissions", settled)
        async with self._progress:
            self.passes += 1
            self.settled += settled
            self._progress.notify_all()
        return settled

    async def wait_passes(self, n: int) -> None:
        """Until ``n`` passes have completed in all (for tests and operators' tools)."""
        async with self._progress:
            await self._progress.wait_for(lambda: self.passes >= n)
