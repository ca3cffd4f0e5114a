"""The root types and the concrete types every schema of OneDoor serves.

One list, read by :func:`schema.build_schema` and by the federation subgraph
(:mod:`schema.subgraph`), so a root field added here is served in both modes.
"""

from __future__ import annotations

from strawberry.tools import merge_types

from .filing import FilingQuery, Mutation
from .health import HealthQuery
from .matter import MATTER_TYPES
from .organisation import OrganisationQuery
from .query import Query
from .risk import RiskQuery
from .statistics import StatisticsQuery
from .subscription import Subscription

__all__ = ["CONCRETE_TYPES", "Mutation", "RootQuery", "Subscription"]

RootQuery = merge_types("Query", (Query, FilingQuery, StatisticsQuery, HealthQuery, RiskQuery, OrganisationQuery))
# Reached only through the ``Matter`` interface, so named for the schema here:
# one per centre, as registered in ``schema.matter.MATTER_TYPES``.
CONCRETE_TYPES: tuple[type, ...] = tuple(MATTER_TYPES.values())
