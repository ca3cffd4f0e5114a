"""One table from centre to connector class, and the factory the gateway
calls at start-up (as uvicorn maps protocol names to implementations).

Each connector's client carries the centre's circuit breaker and shares
identical reads in flight (``connectors.http``); with ``settings.cache.enabled``
every connector is wrapped in a :class:`CachingConnector` over one shared
:class:`RecordCache` (Redis second level when ``cache.redis_url`` is set).

Example::

    connectors = build_connectors(settings)
    try:
        page = await connectors[Centre.PETITIONS].list_matters(ListQuery(limit=50))
    finally:
        await aclose_all(connectors)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

import httpx

from onedoor.model import Centre

from .base import Connector
from .cache import CachingConnector, RecordCache
from .feed_cursor import LegalChanges
from .feed_export import PetitionsExports
from .feed_push import PushFeed
from .feeds import Feed
from .governance import GovernanceConnector
from .legal import LegalConnector
from .petitions import PetitionsConnector
from .settings import CacheSettings, CallPolicy, ConnectorsSettings, PolicyOverride
from .summaries import LitigationSummaries, MediationSummaries

__all__ = ["CONNECTOR_CLASSES", "aclose_all", "build_connectors", "build_feeds"]

CONNECTOR_CLASSES: Mapping[Centre, Callable[..., Connector]] = {
    Centre.MEDIATION: MediationSummaries,  # MediationConnector + summarize (push-down)
    Centre.LEGAL_SERVICES: LegalConnector,
    Centre.PETITIONS: PetitionsConnector,
    Centre.LITIGATION: LitigationSummaries,  # LitigationConnector + summarize
    Centre.GOVERNANCE: GovernanceConnector,
}


def build_connectors(
    settings: ConnectorsSettings,
    *,
    transports: Mapping[Centre, httpx.AsyncBaseTransport] | None = None,
    cache: RecordCache | None = None,
) -> dict[Centre, Connector]:
    """One connector per centre, each with its own pool, semaphore and breaker.
    ``transports`` injects test transports (``httpx.MockTransport``…); ``cache``
    replaces the one built from ``settings.cache`` (e.g. with a test clock)."""
    built: dict[Centre, Connector] = {}
    for centre, cls in CONNECTOR_CLASSES.items():
        built[centre] = cls(
            settings.for_centre(centre),
            settings.policy_for(centre),
            transport=(transports or {}).get(centre),
        )
    if cache is None and settings.cache.enabled:
        cache = RecordCache.from_settings(settings.cache)
    if cache is not None:
        built = {centre: CachingConnector(c, cache) for centre, c in built.items()}
    return built


async def aclose_all(connectors: Mapping[Centre, Connector]) -> None:
    """Close every pool; one failing close does not leave the others open."""
    results = await asyncio.gather(
        *(c.aclose() for c in connectors.values()), return_exceptions=True
    )
    for result in results:
        if isinstance(result, BaseException):
            raise result


def build_feeds(
    settings: ConnectorsSettings,
    *,
    policy: CallPolicy,
    transports: Mapping[Centre, httpx.AsyncBaseTransport] | None = None,
) -> dict[Centre, Feed]:
    """One feed per centre (``connectors.feeds``) over connector instances of its own:
    ``policy`` for every centre — their own pools, concurrency limits and breakers,
    apart from interactive traffic (the bulkhead) — and no record cache."""
    own = settings.model_copy(update={
        "all": policy, "cache": CacheSettings(enabled=False),
        **{c.value.lower(): settings.for_centre(c).model_copy(update={"policy": PolicyOverride()}) for c in Centre},
    })
    feeds: dict[Centre, Feed] = {}
    for centre, connector in build_connectors(own, transports=transports).items():
        if centre is Centre.LEGAL_SERVICES:
            feeds[centre] = LegalChanges(connector)
        elif centre is Centre.PETITIONS:
            feeds[centre] = PetitionsExports(connector)
        else:
            feeds[centre] = PushFeed(connector)
    return feeds
