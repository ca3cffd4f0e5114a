"""The unified read schema (code-first strawberry).

``build_schema()`` assembles it; the printed SDL is kept in
``schema/schema.graphql`` and a test fails when the two drift.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig

from .citizen import Citizen
from .context import RequestContext
from .extensions import PartialResults
from .matter import CourtCase, GridEvent, LegalServiceRequest, MediationCase, Petition
from .query import Query

__all__ = ["Citizen", "RequestContext", "build_schema", "sdl"]

ExtensionFactory = type[SchemaExtension] | Callable[[], SchemaExtension]


def build_schema(
    extensions: Sequence[ExtensionFactory] = (), *, suggestions: bool = True
) -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        types=[MediationCase, LegalServiceRequest, Petition, CourtCase, GridEvent],
        extensions=[PartialResults, *extensions],
        config=StrawberryConfig(disable_field_suggestions=not suggestions),
    )


def sdl() -> str:
    return build_schema().as_str() + "\n"
