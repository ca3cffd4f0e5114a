"""Per-key asyncio locks that forget a key once nobody holds or waits for it.

A filing's idempotency keys are unbounded (every submission brings a new one),
so a plain ``dict[str, Lock]`` would grow for the life of the process. Here each
key carries a count of its users (holder plus waiters): the entry goes when the
count drops to zero. Single-threaded asyncio makes the count exact — it changes
only between awaits.

    locks = KeyLocks()
    async with locks.hold("sub\\x1fkey-1"):
        ...                     # one coroutine per key at a time
    locks.busy("sub\\x1fkey-1")  # False again: the entry is gone
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

__all__ = ["KeyLocks"]


@dataclass(slots=True)
class _Entry:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0  # the holder and everybody waiting


class KeyLocks:
    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def busy(self, key: str) -> bool:
        """Whether a coroutine of this process holds or waits for ``key``."""
        return key in self._entries

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Entry()
        entry.users += 1
        try:
            async with entry.lock:
                yield
        finally:  # also when cancelled while waiting
            entry.users -= 1
            if entry.users == 0:
                del self._entries[key]
