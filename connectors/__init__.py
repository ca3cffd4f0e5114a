"""Connectors: one adapter per centre behind the small :class:`Connector` protocol.

Build them all from validated settings and close them at shutdown::

    connectors = build_connectors(settings)   # dict[Centre, Connector]
    ...
    await aclose_all(connectors)
"""

from __future__ import annotations

from .base import Connector, Health, ListQuery, MatterPage
from .errors import (
    CentreBadResponse,
    CentreError,
    CentreThrottled,
    CentreTimeout,
    CentreUnavailable,
)

__all__ = [
    "CentreBadResponse",
    "CentreError",
    "CentreThrottled",
    "CentreTimeout",
    "CentreUnavailable",
    "Connector",
    "Health",
    "ListQuery",
    "MatterPage",
]
