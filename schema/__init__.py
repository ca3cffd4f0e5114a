"""The unified read schema (code-first strawberry).

``build_schema()`` assembles it; the printed SDL is kept in
``schema/schema.graphql`` and a test fails when the two drift.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from .citizen import Citizen
from .context import RequestContext
from .extensions import PartialResults
from .incidents import log_unexpected
from .roots import CONCRETE_TYPES, Mutation, RootQuery, Subscription

__all__ = ["Citizen", "ExtensionFactory", "RequestContext", "build_schema", "sdl"]

ExtensionFactory = type[SchemaExtension] | Callable[[], SchemaExtension]


class OneDoorSchema(strawberry.Schema):
    """Logs only unexpected errors (:mod:`schema.incidents`)."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        log_unexpected(errors, execution_context)


def build_schema(
    extensions: Sequence[ExtensionFactory] = (), *, suggestions: bool = True, max_batch: int = 10,
    federation: bool = False,
) -> strawberry.Schema:
    """``federation=True``: the Apollo Federation v2 subgraph (:mod:`schema.subgraph`)."""
    if federation:
        from .subgraph import build_subgraph  # `python -m schema.subgraph` imports this package first

        return build_subgraph(extensions, suggestions=suggestions, max_batch=max_batch)
    return OneDoorSchema(
        query=RootQuery,
        mutation=Mutation,
        subscription=Subscription,
        types=list(CONCRETE_TYPES),
        extensions=[PartialResults, *extensions],
        config=StrawberryConfig(
            disable_field_suggestions=not suggestions,
            batching_config={"max_operations": max_batch},
        ),
    )


def sdl() -> str:
    return build_schema().as_str() + "\n"
