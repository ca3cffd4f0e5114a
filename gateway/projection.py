"""The analytic projection in a running gateway: the store, its feeder and their
visibility (``/readyz`` detail, ``onedoor_projection_lag_seconds``).

The feeder's connectors are built apart from the interactive ones
(:func:`connectors.registry.build_feeds`): their own pools, concurrency limits
and breakers, so a resync or a slow centre in the background never opens a
breaker that a caseworker's request then meets (the bulkhead).

Example::

    holder = ProjectionHolder()
    await holder.open(settings, webhooks.listeners)   # in the lifespan
    ...
    await holder.aclose()
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import secrets
import signal
from collections.abc import Callable
from pathlib import Path

from prometheus_client import CollectorRegistry, Gauge

from connectors.registry import build_feeds
from connectors.settings import BreakerSettings, CallPolicy, Retries, Timeouts
from onedoor.model import Centre
from schema.projected import STORED, row_mapper
from services.projection import Feeder, FeedSettings, ProjectionStore, open_projection_store

from .settings import GatewaySettings, ProjectionSettings, load_settings

__all__ = ["ProjectionHolder", "feed_forever", "feed_policy"]

log = logging.getLogger("onedoor.projection")

Listener = Callable[[Centre, str], object]


def feed_policy(settings: ProjectionSettings) -> CallPolicy:
    """The feeder's call policy: long pages, patient retries, a breaker of its own."""
    total = settings.timeout_seconds
    return CallPolicy(timeouts=Timeouts(connect=5.0, read=total, total=total),
                      max_concurrency=settings.centre_concurrency,
                      retries=Retries(max_attempts=3, backoff_base=0.5, backoff_max=5.0),
                      breaker=BreakerSettings(failure_threshold=3, reset_seconds=settings.poll_seconds * 6))


def _person_key(settings: ProjectionSettings, state_dir: Path) -> bytes:
    if settings.person_key is not None:
        return settings.person_key.get_secret_value().encode()
    path = state_dir / "projection.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip().encode()


class ProjectionHolder:
    """The projection once opened (requests read ``store`` at request time)."""

    def __init__(self, store: ProjectionStore | None = None, feeder: Feeder | None = None) -> None:
        self.store = store
        self.feeder = feeder
        self._opened = False
        self._gauge: asyncio.Task[None] | None = None

    async def open(self, settings: GatewaySettings, listeners: list[Listener],
                   metrics_registry: CollectorRegistry | None = None) -> None:
        """Open the store named in settings and start feeding it (unless injected)."""
        config = settings.projection
        if not config.enabled and self.store is None:
            return
        if self.store is None:
            url = config.url or f"duckdb:///{settings.state_dir / 'projection.duckdb'}"
            self.store = await open_projection_store(url, STORED)
            self._opened = True
        if self.feeder is None and config.feed:
            feeds = build_feeds(settings.centres, policy=feed_policy(config))
            self.feeder = Feeder(self.store, feeds, row_mapper(_person_key(config, settings.state_dir)),
                                 FeedSettings(poll_seconds=config.poll_seconds, resync_seconds=config.resync_seconds,
                                              max_concurrency=config.max_concurrency,
                                              resync_rate=config.resync_rate))
        if self.feeder is not None:
            await self.feeder.restore()
            listeners.append(self.feeder.notify)
            self.feeder.start()
            if metrics_registry is not None:
                self._gauge = asyncio.create_task(self._export_lag(metrics_registry, config.poll_seconds))

    async def _export_lag(self, registry: CollectorRegistry, every: float) -> None:
        lag = Gauge("onedoor_projection_lag_seconds", "Age of each centre's projection watermark",
                    ["centre"], registry=registry, multiprocess_mode="livemax")
        while self.feeder is not None:
            for centre in self.feeder.feeds:
                if (seconds := self.feeder.lag_seconds(centre)) is not None:
                    lag.labels(centre.value).set(seconds)
            await asyncio.sleep(every)

    def status(self) -> dict[str, object] | None:
        """``/readyz`` detail: per centre, the feed style, watermark, lag, rows, error and last drift."""
        if self.store is None:
            return None
        return {"engine": self.store.engine,
                "centres": self.feeder.status() if self.feeder is not None else None}

    async def aclose(self) -> None:
        if self._gauge is not None:
            self._gauge.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._gauge
        if self.feeder is not None:
            await self.feeder.aclose()
        if self._opened and self.store is not None:
            await self.store.aclose()


async def feed_forever(settings: GatewaySettings, stop: asyncio.Event) -> None:
    """Feed the projection named in settings from a process of its own until ``stop`` —
    the serving gateways run with ``[projection] feed = false`` over the same PostgreSQL
    (or SQLite) projection, so the feeding never shares their event loops or CPU time.
    Pushed callbacks reach the serving gateways, not this process: push centres are
    brought up to date by its resyncs (``resync_seconds``)."""
    holder = ProjectionHolder()
    await holder.open(settings.model_copy(update={"projection": settings.projection.model_copy(
        update={"enabled": True, "feed": True})}), [])
    try:
        await stop.wait()
    finally:
        await holder.aclose()


def main(argv: list[str] | None = None) -> None:
    """``python -m gateway.projection --config FILE``: the feeding process (SIGINT/SIGTERM stop it)."""
    parser = argparse.ArgumentParser(description="feed the analytic projection from a process of its own")
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--nice", type=int, default=10, choices=range(20), metavar="0-19",
                        help="lower this process's CPU priority by this much (default 10)")
    args = parser.parse_args(argv)
    settings = load_settings(args.config)
    # Feeding is background work: on a host shared with serving gateways the kernel
    # should run their requests first. Lowering one's own priority needs no privilege.
    os.nice(args.nice)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await feed_forever(settings, stop)

    asyncio.run(run())


if __name__ == "__main__":
    main()
