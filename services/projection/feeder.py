"""The background feeder: keeps the projection in step with every centre, each in
its own style, and reconciles it by full resyncs that report drift.

One task per centre, all under one concurrency limit, over the feeds'
own connector instances (their own pools and breakers: a slow resync never
opens a breaker an interactive request then meets):

- ``PUSH``: :meth:`Feeder.notify` (a centre's callback) queues the id; the task
  re-reads queued ids in batches. Callbacks can be lost (the gateway was down,
  the network dropped one), so a resync runs every ``resync_seconds``: the
  watermark of a push centre is the start of its last completed resync.
- ``CURSOR``: polled every ``poll_seconds`` from the stored cursor; the
  watermark is the start of the last poll that reached the end of the feed.
- ``EXPORT``: a new dump is a resync from that file; the watermark is the
  dump's cut time.

A resync reads the whole centre, writes what is missing or different and
deletes what the centre no longer holds (:class:`Drift` counts each). Rows an
incremental change wrote while the resync ran are left as they are: the
snapshot page may be older than the change. A resync of a centre the projection
already holds is paced (``resync_rate`` records a second): it is background
work, and unpaced it takes CPU and the centre's capacity from interactive
requests. The first load of a centre runs as fast as the centre answers.

Example::

    feeder = Feeder(store, feeds, mapper, FeedSettings(poll_seconds=5))
    feeder.start()
    ...
    feeder.notify(Centre.MEDIATION, "TJ632301202400001")
    await feeder.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from connectors.errors import CentreError
from connectors.feeds import CursorFeed, ExportFeed, Feed, FeedStyle
from onedoor.model import Centre, MatterRecord

from .rows import ProjectionRow, RowMapper
from .store import ProjectionStore, Watermark

__all__ = ["Drift", "FeedSettings", "Feeder"]

log = logging.getLogger("onedoor.projection")


@dataclass(frozen=True, slots=True)
class FeedSettings:
    poll_seconds: float = 5.0  # cursor polls, export listings, push batches
    resync_seconds: float = 900.0  # full reconciliation of every centre
    max_concurrency: int = 2  # centres resynced at once (the other cores serve requests)
    batch: int = 500  # ids re-read per push batch
    write_rows: int = 5000  # rows written at once during a resync
    # A reconciliation of a centre the projection already holds reads at most this many
    # records a second (None: as fast as the centre answers). It is background work: paced,
    # it leaves the centre's capacity and this machine's CPU to interactive requests. The
    # first load of a centre (nothing held yet) is never paced.
    resync_rate: float | None = 500.0


@dataclass(frozen=True, slots=True)
class Drift:
    """What one resync found and repaired."""

    centre: Centre
    started: dt.datetime
    finished: dt.datetime
    seen: int  # records the centre holds
    missing: int  # at the centre, absent from the projection: added
    stale: int  # different in the projection: replaced
    extra: int  # in the projection, gone from the centre: deleted
    unmapped: int = 0  # records the mapper refused (logged, left out)

    @property
    def repaired(self) -> int:
        return self.missing + self.stale + self.extra


@dataclass
class _State:
    pending: set[str] = field(default_factory=set)  # pushed ids not yet re-read
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    touched: set[str] | None = None  # ids written incrementally while a resync runs
    resynced: float | None = None  # monotonic time of the last completed resync


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class _Pace:
    """Keeps a reader at or under ``rate`` records a second on average, by sleeping
    between pages (the next page is asked for only when the budget allows it)."""

    clock: Callable[[], float] = staticmethod(time.monotonic)
    sleep: Callable[[float], Awaitable[None]] = staticmethod(asyncio.sleep)

    def __init__(self, rate: float | None) -> None:
        self.rate = rate
        self.started = self.clock()
        self.count = 0

    async def after(self, records: int) -> None:
        if self.rate is None:
            return
        self.count += records
        ahead = self.started + self.count / self.rate - self.clock()
        if ahead > 0:
            await self.sleep(ahead)


class Feeder:
    def __init__(self, store: ProjectionStore, feeds: Mapping[Centre, Feed], mapper: RowMapper,
                 settings: FeedSettings | None = None, *,
                 clock: Callable[[], dt.datetime] = _now) -> None:
        self.store = store
        self.feeds = dict(feeds)
        self.mapper = mapper
        self.settings = settings or FeedSettings()
        self.clock = clock
        self.drifts: dict[Centre, Drift] = {}
        self.marks: dict[Centre, Watermark] = {}
        self._state = {c: _State() for c in self.feeds}
        self._slots = asyncio.Semaphore(self.settings.max_concurrency)
        self._tasks: list[asyncio.Task[None]] = []
        self._last_cursor: dict[Centre, str] = {}  # where a cursor read ended

    # -- what others call ---------------------------------------------------
    def notify(self, centre: Centre, native_id: str) -> bool:
        """A centre said this record changed (its callback); ``False`` if not fed by push."""
        feed = self.feeds.get(centre)
        if feed is None or feed.style is not FeedStyle.PUSH:
            return False
        state = self._state[centre]
        state.pending.add(native_id)
        state.wake.set()
        return True

    def lag_seconds(self, centre: Centre) -> float | None:
        mark = self.marks.get(centre)
        if mark is None or mark.as_of is None:
            return None
        return max(0.0, (self.clock() - mark.as_of).total_seconds())

    def status(self) -> dict[str, dict[str, object]]:
        """Per centre: style, watermark, lag, rows, the last error and drift (``/readyz``)."""
        out: dict[str, dict[str, object]] = {}
        for centre, feed in self.feeds.items():
            mark = self.marks.get(centre)
            drift = self.drifts.get(centre)
            out[centre.value] = {
                "style": feed.style.value,
                "asOf": mark.as_of.isoformat() if mark and mark.as_of else None,
                "lagSeconds": None if (lag := self.lag_seconds(centre)) is None else round(lag, 1),
                "rows": mark.rows if mark else 0,
                "error": mark.error if mark else None,
                "lastDrift": None if drift is None else {
                    "at": drift.finished.isoformat(), "seen": drift.seen, "missing": drift.missing,
                    "stale": drift.stale, "extra": drift.extra},
            }
        return out

    # -- feeding ------------------------------------------------------------
    def _map(self, records: Sequence[MatterRecord]) -> tuple[list[ProjectionRow], int]:
        rows, failed = [], 0
        for record in records:
            try:
                rows.append(self.mapper(record))
            except Exception as exc:  # one odd record must not stop a centre's feed
                failed += 1
                log.warning("projection: %s %s not mapped: %s", record.centre.value, record.native_id,
                            type(exc).__name__)
        return rows, failed

    async def _write(self, centre: Centre, rows: list[ProjectionRow]) -> None:
        await self.store.upsert(rows)
        touched = self._state[centre].touched
        if touched is not None:
            touched.update(r.native_id for r in rows)

    async def _mark(self, centre: Centre, *, as_of: dt.datetime | None, cursor: str | None,
                    error: str | None = None) -> Watermark:
        before = self.marks.get(centre)
        rows = await self.store.count(centre) if error is None else (before.rows if before else 0)
        mark = Watermark(centre, self.feeds[centre].style.value, as_of, cursor, rows, error)
        await self.store.set_watermark(mark)
        self.marks[centre] = mark
        return mark

    async def resync(self, centre: Centre) -> Drift:
        """Read the whole centre and make the projection equal to it; report the drift."""
        feed = self.feeds[centre]
        state = self._state[centre]
        started = self.clock()
        as_of: dt.datetime | None = started
        cursor: str | None = None
        pages: AsyncIterator[Sequence[MatterRecord]]
        if isinstance(feed, ExportFeed):
            files = await feed.exports()
            if not files:
                raise LookupError(f"{centre.value} has no export yet")
            as_of, cursor = files[-1].as_of, files[-1].name
            pages = feed.read(files[-1].name)
        elif isinstance(feed, CursorFeed):
            pages = self._cursor_pages(feed, None)
        else:
            pages = feed.snapshot()
        before = await self.store.fingerprints(centre)
        pace = _Pace(self.settings.resync_rate if before else None)
        state.touched = set()
        seen: set[str] = set()
        missing = stale = unmapped = 0
        buffer: list[ProjectionRow] = []
        try:
            async for page in pages:
                rows, failed = self._map(page)
                unmapped += failed
                fresh = [r for r in rows if r.native_id not in state.touched
                         and before.get(r.native_id) != r.fingerprint()]
                for row in fresh:
                    if row.native_id in before:
                        stale += 1
                    else:
                        missing += 1
                seen.update(r.native_id for r in rows)
                seen.update(r.native_id for r in page)
                buffer += fresh
                if len(buffer) >= self.settings.write_rows:  # engines load large batches far faster
                    await self.store.upsert(buffer)
                    buffer = []
                await pace.after(len(page))
            await self.store.upsert(buffer)
            if isinstance(feed, CursorFeed):
                cursor = self._last_cursor.pop(centre, None)
            unseen = [n for n in before if n not in seen and n not in state.touched]
            # A snapshot can miss a record (pages read while a create shifted them; a dump older
            # than the record): ask the centre before deleting anything.
            still = await feed.fetch(unseen) if unseen else {}
            kept, _ = self._map(list(still.values()))
            await self.store.upsert(kept)
            extra = [n for n in unseen if n not in still]
            await self.store.delete(centre, extra)
        finally:
            state.touched = None
        state.resynced = time.monotonic()
        await self._mark(centre, as_of=as_of, cursor=cursor)
        drift = Drift(centre, started, self.clock(), len(seen), missing, stale, len(extra), unmapped)
        self.drifts[centre] = drift
        if drift.repaired:
            log.info("projection resync %s: %d seen, %d missing, %d stale, %d extra", centre.value, drift.seen,
                     drift.missing, drift.stale, drift.extra)
        return drift

    async def _cursor_pages(self, feed: CursorFeed, cursor: str | None) -> AsyncIterator[Sequence[MatterRecord]]:
        while True:
            page = await feed.changes(cursor)
            cursor = page.cursor
            self._last_cursor[feed.centre] = cursor
            yield page.records
            if not page.more:
                return

    async def poll(self, centre: Centre) -> int:
        """One incremental step in the centre's style; the number of rows written."""
        feed = self.feeds[centre]
        mark = self.marks.get(centre)
        if isinstance(feed, CursorFeed):
            started = self.clock()
            written = 0
            cursor = mark.cursor if mark else None
            async for page in self._cursor_pages(feed, cursor):
                rows, _ = self._map(page)
                await self._write(centre, rows)
                written += len(rows)
            await self._mark(centre, as_of=started, cursor=self._last_cursor.pop(centre, cursor))
            return written
        if isinstance(feed, ExportFeed):
            files = await feed.exports()
            if files and (mark is None or files[-1].name != mark.cursor):
                drift = await self.resync(centre)
                return drift.repaired
            return 0
        state = self._state[centre]
        written = 0
        while state.pending:
            batch = [state.pending.pop() for _ in range(min(self.settings.batch, len(state.pending)))]
            try:
                found = await feed.fetch(batch)
            except BaseException:
                state.pending.update(batch)  # read again next time
                raise
            rows, _ = self._map(list(found.values()))
            await self._write(centre, rows)
            await self.store.delete(centre, [n for n in batch if n not in found])
            written += len(rows)
        return written

    async def load(self) -> dict[Centre, Drift]:
        """Resync every centre once, at most ``max_concurrency`` at a time (the initial load)."""
        async def one(centre: Centre) -> tuple[Centre, Drift]:
            async with self._slots:
                return centre, await self.resync(centre)

        return dict(await asyncio.gather(*(one(c) for c in self.feeds)))

    # -- the background tasks ---------------------------------------------
    async def _step(self, centre: Centre) -> None:
        state = self._state[centre]
        due = state.resynced is None or time.monotonic() - state.resynced >= self.settings.resync_seconds
        async with self._slots if due else contextlib.nullcontext():  # resyncs take turns; polls are small
            try:
                if due:
                    await self.resync(centre)
                else:
                    await self.poll(centre)
                if (mark := self.marks.get(centre)) is not None and mark.error is not None:
                    await self._mark(centre, as_of=mark.as_of, cursor=mark.cursor)
            except (CentreError, LookupError) as exc:
                code = exc.code if isinstance(exc, CentreError) else "NO_EXPORT"
                before = self.marks.get(centre)
                await self._mark(centre, as_of=before.as_of if before else None,
                                 cursor=before.cursor if before else None, error=code)
                log.warning("projection feed %s: %s", centre.value, code)

    async def _run(self, centre: Centre) -> None:
        state = self._state[centre]
        while True:
            try:
                await self._step(centre)
            except asyncio.CancelledError:
                raise
            except Exception:  # the feeder must outlive any one failure
                log.exception("projection feed %s failed", centre.value)
            state.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(state.wake.wait(), self.settings.poll_seconds)

    async def restore(self) -> None:
        """Take up the stored watermarks (a restart resumes cursors instead of reloading)."""
        self.marks.update({c: m for c, m in (await self.store.watermarks()).items() if c in self.feeds})
        for centre, mark in self.marks.items():
            # A cursor resumes and an export waits for its next dump; a push centre is resynced
            # at once (callbacks sent while this process was down are lost).
            if mark.as_of is not None and self.feeds[centre].style is not FeedStyle.PUSH:
                self._state[centre].resynced = time.monotonic()

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._run(c), name=f"projection:{c.value}") for c in self.feeds]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def aclose(self) -> None:
        await self.stop()
        for feed in self.feeds.values():
            await feed.aclose()
