"""Per-request DataLoaders: one per centre and kind of lookup.

Loaders are created inside the request (aiodataloader captures the running
loop) and never shared, so one caller's rows can never be served to another
from a loader cache. Batch sizes follow each centre's batch-read limit; a
centre without a batch read fans out inside its connector.

Records found by citizen are primed into the by-id loader, so following a
link to a matter the request has already seen costs no backend call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from aiodataloader import DataLoader

from connectors.base import Connector
from onedoor.centres import CENTRES
from onedoor.model import Centre, MatterRecord, ResidentRecord

__all__ = ["Loaders"]

_BATCH_LIMITS: Mapping[Centre, int] = {c: info.batch_limit for c, info in CENTRES.items()}
V = TypeVar("V")


class _OnFirstUse(dict[Centre, DataLoader[str, V]]):
    """A centre's loader, made when first asked for (a request that reads two
    centres builds two loaders, not eleven; a context is forked per operation,
    so most were never used). A centre without a connector is a KeyError."""

    def __init__(self, make: Callable[[Centre], DataLoader[str, V]]) -> None:
        super().__init__()
        self._make = make

    def __missing__(self, centre: Centre) -> DataLoader[str, V]:
        loader = self[centre] = self._make(centre)
        return loader


class Loaders:
    def __init__(self, connectors: Mapping[Centre, Connector]) -> None:
        self._connectors = connectors
        self.centres_called: set[Centre] = set()
        self.by_id: dict[Centre, DataLoader[str, MatterRecord | None]] = _OnFirstUse(
            lambda centre: DataLoader(self._by_id_fn(connectors[centre]),
                                      max_batch_size=_BATCH_LIMITS.get(centre, 50),
                                      get_cache_key=str))
        self.by_citizen: dict[Centre, DataLoader[str, list[MatterRecord]]] = _OnFirstUse(
            lambda centre: DataLoader(self._by_citizen_fn(connectors[centre]),
                                      max_batch_size=_BATCH_LIMITS.get(centre, 50),
                                      get_cache_key=str))
        self._prefetched: dict[tuple[Centre, str], asyncio.Future[list[MatterRecord]]] = {}
        self._residents_loader: DataLoader[str, ResidentRecord | None] | None = None

    @property
    def residents(self) -> DataLoader[str, ResidentRecord | None]:
        if self._residents_loader is None:
            self._residents_loader = DataLoader(self._residents, max_batch_size=100,
                                                get_cache_key=str)
        return self._residents_loader

    def _by_id_fn(self, connector: Connector):  # type: ignore[no-untyped-def]
        async def load(keys: Sequence[str]) -> list[MatterRecord | None]:
            self.centres_called.add(connector.centre)
            found = await connector.get_many(list(keys))
            return [found.get(k) for k in keys]

        return load

    def _by_citizen_fn(self, connector: Connector):  # type: ignore[no-untyped-def]
        async def load(keys: Sequence[str]) -> list[list[MatterRecord]]:
            self.centres_called.add(connector.centre)
            found = await connector.find_by_citizens(list(keys))
            by_id = self.by_id[connector.centre]
            out: list[list[MatterRecord]] = []
            for key in keys:
                records = list(found.get(key, ()))
                for record in records:
                    by_id.prime(record.native_id, record)
                out.append(records)
            return out

        return load

    async def _residents(self, keys: Sequence[str]) -> list[ResidentRecord | None]:
        self.centres_called.add(Centre.GOVERNANCE)
        governance = self._connectors[Centre.GOVERNANCE]
        found: Mapping[str, ResidentRecord] = await governance.get_residents(  # type: ignore[attr-defined]
            list(keys)
        )
        return [found.get(k) for k in keys]

    async def matter(self, centre: Centre, native_id: str) -> MatterRecord | None:
        result: MatterRecord | None = await self.by_id[centre].load(native_id)
        return result

    async def matters_of(self, centre: Centre, id_number: str) -> list[MatterRecord]:
        prefetched = self._prefetched.get((centre, id_number))
        pending = prefetched if prefetched is not None else self.by_citizen[centre].load(id_number)
        result: list[MatterRecord] = await pending
        return result

    def prefetch_matters_of(self, centre: Centre, id_number: str) -> None:
        """Queue the citizen search now; a later :meth:`matters_of` joins it.
        A failure surfaces there, where the field reports it."""
        future = self.by_citizen[centre].load(id_number)
        future.add_done_callback(_consume)
        # Kept here because the loader forgets failed keys: the resolver must see
        # this outcome, not trigger a second call.
        self._prefetched[(centre, id_number)] = future

    async def resident(self, id_number: str) -> ResidentRecord | None:
        result: ResidentRecord | None = await self.residents.load(id_number)
        return result


def _consume(future: asyncio.Future[list[MatterRecord]]) -> None:
    # Retrieve the exception so an unawaited prefetch never logs "never retrieved";
    # the awaiting resolver re-raises it from the loader's cache.
    if not future.cancelled():
        future.exception()
