"""Operation-stage hooks owned by the schema: partial errors and the
``extensions`` that tell a caller what was left out."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, ClassVar

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError, GraphQLResolveInfo
from strawberry.extensions import SchemaExtension

from onedoor.model import Centre

from .context import RequestContext

__all__ = ["FederatedPartialResults", "PartialResults", "omitted_error"]


def omitted_error(centre: Centre, path: list[str | int] | None = None) -> GraphQLError:
    """A centre left out of the answer because the caller may not read it."""
    return GraphQLError(
        f"未查询无权访问的中心 / left out: the caller may not read {centre.value}",
        path=path,
        extensions={"code": "CENTRE_OMITTED", "centre": centre.value},
    )


class PartialResults(SchemaExtension):
    """Adds the centre failures collected during execution to ``errors`` and
    names the centres left out by scope in ``extensions.omittedCentres``."""

    # Also one ``CENTRE_OMITTED`` error per omitted centre: federation gateways
    # forward a subgraph's errors but drop its response ``extensions``.
    omitted_as_errors: ClassVar[bool] = False

    def on_execute(self) -> Iterator[None]:
        yield
        ctx = self.execution_context.context
        result = self.execution_context.result
        if not isinstance(ctx, RequestContext) or not isinstance(
            result, GraphQLExecutionResult
        ):
            return
        added = list(ctx.partial_errors)
        if self.omitted_as_errors:
            told = {(e.extensions or {}).get("centre") for e in result.errors or ()
                    if (e.extensions or {}).get("code") == "CENTRE_OMITTED"}
            added += [omitted_error(c, self.omitted_at(c))
                      for c in sorted(ctx.omitted_centres, key=lambda c: c.value)
                      if c.value not in told]
        if added:
            result.errors = [*(result.errors or []), *added]

    def omitted_at(self, centre: Centre) -> list[str | int] | None:
        return None

    def get_results(self) -> dict[str, Any]:
        ctx = self.execution_context.context
        if isinstance(ctx, RequestContext) and ctx.omitted_centres:
            return {"omittedCentres": sorted(c.value for c in ctx.omitted_centres)}
        return {}


class FederatedPartialResults(PartialResults):
    """:class:`PartialResults` for the federation subgraph (:mod:`schema.subgraph`):
    each omitted centre is also an error at the path of the field during whose
    resolution it was left out — Hive Gateway, for one, drops a subgraph error
    without a path. (Left out while ``_entities`` resolves its references: no
    path, as that list is not where it happened; a matter reference of a centre
    left out carries its own error at its slot.)"""

    omitted_as_errors = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._omitted_at: dict[Centre, list[str | int] | None] = {}

    def omitted_at(self, centre: Centre) -> list[str | int] | None:
        return self._omitted_at.get(centre)

    def resolve(self, _next: Callable[..., Any], root: Any, info: GraphQLResolveInfo[Any],
                *args: Any, **kwargs: Any) -> Any:
        ctx = info.context
        if not isinstance(ctx, RequestContext):
            return _next(root, info, *args, **kwargs)
        before = frozenset(ctx.omitted_centres)
        result = _next(root, info, *args, **kwargs)
        if inspect.isawaitable(result):
            return self._settled(result, ctx, info, before)
        self._note(ctx, info, before)
        return result

    async def _settled(self, result: Awaitable[Any], ctx: RequestContext,
                       info: GraphQLResolveInfo[Any], before: frozenset[Centre]) -> Any:
        try:
            return await result
        finally:
            self._note(ctx, info, before)

    def _note(self, ctx: RequestContext, info: GraphQLResolveInfo[Any],
              before: frozenset[Centre]) -> None:
        if len(ctx.omitted_centres) == len(before):
            return
        path = None if info.field_name == "_entities" else info.path.as_list()
        for centre in ctx.omitted_centres - before - self._omitted_at.keys():
            self._omitted_at[centre] = path
