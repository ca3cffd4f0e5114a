"""One table from centre to connector class, and the factory the gateway
calls at start-up (as uvicorn maps protocol names to implementations).

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
from .governance import GovernanceConnector
from .legal import LegalConnector
from .litigation import LitigationConnector
from .mediation import MediationConnector
from .petitions import PetitionsConnector
from .settings import ConnectorsSettings

__all__ = ["CONNECTOR_CLASSES", "aclose_all", "build_connectors"]

CONNECTOR_CLASSES: Mapping[Centre, Callable[..., Connector]] = {
    Centre.MEDIATION: MediationConnector,
    Centre.LEGAL_SERVICES: LegalConnector,
    Centre.PETITIONS: PetitionsConnector,
    Centre.LITIGATION: LitigationConnector,
    Centre.GOVERNANCE: GovernanceConnector,
}


def build_connectors(
    settings: ConnectorsSettings,
    *,
    transports: Mapping[Centre, httpx.AsyncBaseTransport] | None = None,
) -> dict[Centre, Connector]:
    """One connector per centre, each with its own pool and semaphore.
    ``transports`` injects test transports (``httpx.MockTransport``…)."""
    built: dict[Centre, Connector] = {}
    for centre, cls in CONNECTOR_CLASSES.items():
        built[centre] = cls(
            settings.for_centre(centre),
            settings.policy_for(centre),
            transport=(transports or {}).get(centre),
        )
    return built


async def aclose_all(connectors: Mapping[Centre, Connector]) -> None:
    """Close every pool; one failing close does not leave the others open."""
    results = await asyncio.gather(
        *(c.aclose() for c in connectors.values()), return_exceptions=True
    )
    for result in results:
        if isinstance(result, BaseException):
            raise result
