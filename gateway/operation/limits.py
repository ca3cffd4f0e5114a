"""Abuse limits on a document, checked before anything executes.

Depth, aliases, root fields and estimated cost are validation rules; the token
limit is a parser option (it stops a huge document before it is built). Each
refusal carries a stable code (Apollo Router's names where they exist):
``MAX_DEPTH_LIMIT``, ``MAX_ALIASES_LIMIT``, ``MAX_ROOT_FIELDS_LIMIT``,
``MAX_TOKENS_LIMIT``, ``COST_ESTIMATED_TOO_EXPENSIVE``; other parse and
validation failures get ``GRAPHQL_PARSE_FAILED`` / ``GRAPHQL_VALIDATION_FAILED``.

Parsed documents and their (variables-independent) validation errors are kept
in a bounded LRU keyed by the query text, so a portal sending the same few
operations parses and validates each once per worker; the limits depend on the
variables (``first: $n``) and are checked on every request — a walk over the
tree, far cheaper than graphql-core's validation.

Cost model: every field costs 1, and a list field's selection is multiplied by
its ``first`` argument (or the default page size) — a cheap, conservative
estimate of how many objects the answer can hold.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from cachetools import LRUCache
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
)
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from ..settings import LimitsSettings

__all__ = ["DocumentCache", "OperationLimits"]

# Lists whose size is not set by `first`: their usual upper bound.
_IMPLICIT_LIST_SIZE = {"links": 5, "parties": 5, "events": 10, "children": 30, "edges": 1,
                       "nodes": 1}
_DEFAULT_FIRST = 20


def _limit_error(code: str, message: str, node: Any, **extra: Any) -> GraphQLError:
    return GraphQLError(message, node, extensions={"code": code, **extra})


class _Walker:
    def __init__(self, fragments: Mapping[str, FragmentDefinitionNode],
                 variables: Mapping[str, Any]) -> None:
        self.fragments = fragments
        self.variables = variables

    def fields(self, selection_set: SelectionSetNode | None, seen: frozenset[str] = frozenset()
               ) -> Iterator[FieldNode]:
        if selection_set is None:
            return
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                yield selection
            elif isinstance(selection, InlineFragmentNode):
                yield from self.fields(selection.selection_set, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in seen:
                    yield from self.fields(fragment.selection_set, seen | {name})

    def depth(self, selection_set: SelectionSetNode | None) -> int:
        return max((1 + self.depth(f.selection_set) for f in self.fields(selection_set)
                    if f.selection_set is not None), default=0) if selection_set else 0

    def aliases(self, selection_set: SelectionSetNode | None) -> int:
        return sum((1 if f.alias else 0) + self.aliases(f.selection_set)
                   for f in self.fields(selection_set))

    def _multiplier(self, field: FieldNode) -> int:
        for argument in field.arguments or ():
            if argument.name.value == "first":
                value = argument.value
                if isinstance(value, IntValueNode):
                    return max(int(value.value), 1)
                if isinstance(value, VariableNode):
                    given = self.variables.get(value.name.value)
                    return max(given, 1) if isinstance(given, int) else _DEFAULT_FIRST
        return _IMPLICIT_LIST_SIZE.get(field.name.value, 1)

    def cost(self, selection_set: SelectionSetNode | None) -> int:
        total = 0
        for field in self.fields(selection_set):
            child = self.cost(field.selection_set) if field.selection_set else 0
            total += 1 + self._multiplier(field) * child
        return total


def limit_errors(document: DocumentNode, limits: LimitsSettings,
                 variables: Mapping[str, Any]) -> list[GraphQLError]:
    """Every limit each operation of ``document`` exceeds, as coded errors."""
    fragments = {d.name.value: d for d in document.definitions
                 if isinstance(d, FragmentDefinitionNode)}
    walker = _Walker(fragments, variables)
    errors: list[GraphQLError] = []
    for node in document.definitions:
        if not isinstance(node, OperationDefinitionNode):
            continue
        sel = node.selection_set
        checks = (
            ("MAX_ROOT_FIELDS_LIMIT", sum(1 for _ in walker.fields(sel)), limits.max_root_fields,
             "根字段过多 / too many root fields"),
            ("MAX_DEPTH_LIMIT", walker.depth(sel), limits.max_depth,
             "查询嵌套过深 / the query is nested too deeply"),
            ("MAX_ALIASES_LIMIT", walker.aliases(sel), limits.max_aliases,
             "别名过多 / too many aliases"),
            ("COST_ESTIMATED_TOO_EXPENSIVE", walker.cost(sel), limits.max_cost,
             "查询估算成本过高，请减少分页数量 / the estimated cost is too high"),
        )
        errors.extend(_limit_error(code, message, node, actual=actual, limit=maximum)
                      for code, actual, maximum, message in checks if actual > maximum)
    return errors


class DocumentCache:
    """Parsed documents and their validation errors by query text, for one schema.

    Bounded (an endpoint fed unique query texts only churns it). Queries longer
    than ``max_chars`` are not kept: the operations worth caching are the
    portal's, and they are short.
    """

    def __init__(self, maxsize: int = 512, max_chars: int = 20_000) -> None:
        self.max_chars = max_chars
        self.documents: LRUCache[str, DocumentNode] = LRUCache(maxsize)
        self.errors: LRUCache[str, tuple[GraphQLError, ...]] = LRUCache(maxsize)
        self.hits = 0
        self.misses = 0

    def keep(self, query: str | None) -> bool:
        return query is not None and len(query) <= self.max_chars


class OperationLimits(SchemaExtension):
    def __init__(self, limits: LimitsSettings, cache: DocumentCache | None = None) -> None:
        self.limits = limits
        self.cache = cache or DocumentCache(maxsize=0)

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.parse_options["max_tokens"] = self.limits.max_tokens
        yield
        # Parse and validation failures arrive as strawberry's PreExecutionError,
        # execution results as graphql-core's: both carry ``errors``.
        result = context.result
        errors = getattr(result, "errors", None)
        if errors and getattr(result, "data", None) is None:
            result.errors = [_coded(e, self.limits) for e in errors]  # type: ignore[union-attr]

    def on_parse(self) -> Iterator[None]:
        context, cache = self.execution_context, self.cache
        query = context.query
        known = cache.documents.get(query) if query is not None and cache.keep(query) else None
        if known is not None:
            context.graphql_document = known  # strawberry skips parsing a set document
            cache.hits += 1
        yield
        if known is None and context.graphql_document is not None and cache.keep(query):
            assert query is not None
            cache.misses += 1
            cache.documents[query] = context.graphql_document

    def on_validate(self) -> Iterator[None]:
        # Setting ``pre_execution_errors`` here replaces strawberry's own
        # validation run (it validates only when they are still ``None``).
        context, cache = self.execution_context, self.cache
        document, query = context.graphql_document, context.query
        assert document is not None
        errors = cache.errors.get(query) if query is not None and cache.keep(query) else None
        if errors is None:
            errors = tuple(validate_document(context.schema._schema, document,
                                             context.validation_rules))
            if cache.keep(query):
                assert query is not None
                cache.errors[query] = errors
        context.pre_execution_errors = [
            *errors, *limit_errors(document, self.limits, context.variables or {})]
        yield


def _coded(error: GraphQLError, limits: LimitsSettings) -> GraphQLError:
    if error.extensions and "code" in error.extensions:
        return error
    if error.original_error is not None:
        return error
    if "tokens" in error.message and "Parsing aborted" in error.message:
        code, message = "MAX_TOKENS_LIMIT", "查询过长 / the document has too many tokens"
        extra: dict[str, Any] = {"limit": limits.max_tokens}
    elif error.message.startswith("Syntax Error"):
        code, message, extra = "GRAPHQL_PARSE_FAILED", error.message, {}
    else:
        code, message, extra = "GRAPHQL_VALIDATION_FAILED", error.message, {}
    return GraphQLError(message, error.nodes, error.source, error.positions, error.path,
                        extensions={"code": code, **extra})
