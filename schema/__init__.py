"""The unified read schema (code-first strawberry).

``build_schema()`` assembles it; the printed SDL is kept in
``schema/schema.graphql`` and a test fails when the two drift.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Sequence

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from .citizen import Citizen
from .context import RequestContext
from .errors import is_expected
from .extensions import PartialResults
from .filing import FilingQuery, Mutation
from .health import HealthQuery
from .matter import CourtCase, GridEvent, LegalServiceRequest, MediationCase, Petition
from .query import Query
from .statistics import StatisticsQuery
from .subscription import Subscription

__all__ = ["Citizen", "ExtensionFactory", "RequestContext", "build_schema", "sdl"]

_log = logging.getLogger("onedoor.errors")

ExtensionFactory = type[SchemaExtension] | Callable[[], SchemaExtension]


class OneDoorSchema(strawberry.Schema):
    """Logs only unexpected errors, by type and stack: expected ones (bad input,
    denials, centre failures) are answers, not incidents, and an exception's
    message may quote personal data."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        request_id = getattr(getattr(execution_context, "context", None), "request_id", "-")
        for error in errors:
            if not is_expected(error):
                _log_unexpected(error, request_id)


def _log_unexpected(error: GraphQLError, request_id: str) -> None:
    original = error.original_error
    stack = "".join(traceback.format_tb(original.__traceback__)) if original else ""
    _log.error("unexpected %s request_id=%s\n%s", type(original).__name__, request_id, stack)


def build_schema(
    extensions: Sequence[ExtensionFactory] = (), *, suggestions: bool = True, max_batch: int = 10,
    federation: bool = False,
) -> strawberry.Schema:
    """``federation=True``: the Apollo Federation v2 subgraph (:mod:`schema.subgraph`)."""
    if federation:
        from .subgraph import build_subgraph

        return build_subgraph(extensions, suggestions=suggestions, max_batch=max_batch)
    return OneDoorSchema(
        query=merge_types("Query", (Query, FilingQuery, StatisticsQuery, HealthQuery)),
        mutation=Mutation,
        subscription=Subscription,
        types=[MediationCase, LegalServiceRequest, Petition, CourtCase, GridEvent],
        extensions=[PartialResults, *extensions],
        config=StrawberryConfig(
            disable_field_suggestions=not suggestions,
            batching_config={"max_operations": max_batch},
        ),
    )


def sdl() -> str:
    return build_schema().as_str() + "\n"
