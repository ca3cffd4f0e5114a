"""Operation-stage hooks owned by the schema: partial errors and the
``extensions`` that tell a caller what was left out."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import SchemaExtension

from .context import RequestContext

__all__ = ["PartialResults"]


class PartialResults(SchemaExtension):
    """Adds the centre failures collected during execution to ``errors`` and
    names the centres left out by scope in ``extensions.omittedCentres``."""

    def on_execute(self) -> Iterator[None]:
        yield
        ctx = self.execution_context.context
        result = self.execution_context.result
        if not isinstance(ctx, RequestContext) or not isinstance(
            result, GraphQLExecutionResult
        ):
            return
        if ctx.partial_errors:
            result.errors = [*(result.errors or []), *ctx.partial_errors]

    def get_results(self) -> dict[str, Any]:
        ctx = self.execution_context.context
        if isinstance(ctx, RequestContext) and ctx.omitted_centres:
            return {"omittedCentres": sorted(c.value for c in ctx.omitted_centres)}
        return {}
