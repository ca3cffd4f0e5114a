"""Abuse limits on a document, checked before anything executes.

Depth, aliases, root fields and estimated cost are measured after graphql-core
validation; the token limit is a parser option (it stops a huge document
before it is built). Each refusal carries a stable code (Apollo Router's names
where they exist): ``MAX_DEPTH_LIMIT``, ``MAX_ALIASES_LIMIT``,
``MAX_ROOT_FIELDS_LIMIT``, ``MAX_TOKENS_LIMIT``, ``COST_ESTIMATED_TOO_EXPENSIVE``;
other parse and validation failures get ``GRAPHQL_PARSE_FAILED`` /
``GRAPHQL_VALIDATION_FAILED``.

Parsed documents and their (variables-independent) validation errors are kept
in a bounded LRU keyed by the query text, so a portal sending the same few
operations parses and validates each once per worker; the limits depend on the
variables (``first: $n``) and are measured on every request.

The measure is linear in the size of the document, whatever its fragments do.
Every selection set is measured once, children first, with an explicit stack
(no recursion, so no ``RecursionError``): a fragment spread a million times
over twenty doubling fragments (``F1 { ...F0 ...F0 }`` … ``F20``) is still
twenty small measures, combined arithmetically. Only a document that passed
validation is measured — it has no fragment cycles and no unknown fragments —
and every number saturates at :data:`SATURATED` instead of growing a bignum.

Cost model: every field costs 1, and a list field's selection is multiplied by
its ``first`` argument (or the default page size) — a cheap, conservative
estimate of how many objects the answer can hold.

Introspection (``__schema`` and ``__type``, which only the query root has) is
exempt from the depth and cost limits — the standard queries of graphql-core
and graphql-js nest their ``ofType`` chain deeper than any data query may — and
bounded instead by :data:`INTROSPECTION_MAX_DEPTH` and by graphql-core's
``MaxIntrospectionDepthRule`` (part of the specified validation rules: at most
three nested ``fields``/``interfaces``/``possibleTypes``/``inputFields``).
Aliases and root fields count there as anywhere.

    >>> from graphql import parse
    >>> doubling = " ".join(
    ...     ["query { ...F20 } fragment F0 on Query { __typename }"]
    ...     + [f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, 21)])
    >>> measured = measure_operation(parse(doubling), {})
    >>> measured.root_fields, measured.steps
    (1048576, 42)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
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
    SelectionNode,
    SelectionSetNode,
    VariableNode,
)
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from ..settings import LimitsSettings

__all__ = [
    "INTROSPECTION_MAX_DEPTH",
    "SATURATED",
    "DocumentCache",
    "Measure",
    "OperationLimits",
    "limit_errors",
    "measure_operation",
]

# Lists whose size is not set by `first`: their usual upper bound.
_IMPLICIT_LIST_SIZE = {"links": 5, "parties": 5, "events": 10, "children": 30, "edges": 1,
                       "nodes": 1}
_DEFAULT_FIRST = 20

SATURATED = 2**31 - 1
"""Where every measure stops growing (the largest GraphQL ``Int``)."""

INTROSPECTION_MAX_DEPTH = 20
"""Depth of an introspection field's subtree: graphql-js's default query nests
14 deep (``__schema`` … nine ``ofType``), a ``__type`` chain may go a little deeper."""

_INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})


@dataclass(frozen=True, slots=True)
class Measure:
    """What a selection set (or an operation) adds up to, fragments expanded.

    ``fields`` counts the fields at its own level (for an operation: the root
    fields); ``depth`` the nesting of fields with a selection set;
    ``introspection_depth`` the same for ``__schema``/``__type`` subtrees, which
    count in neither ``depth`` nor ``cost``; ``steps`` the selections visited to
    measure it (set on an operation's measure only).
    """

    fields: int = 0
    depth: int = 0
    aliases: int = 0
    cost: int = 0
    introspection_depth: int = 0
    steps: int = 0

    @property
    def root_fields(self) -> int:
        return self.fields


_EMPTY = Measure()


def _add(a: int, b: int) -> int:
    return min(a + b, SATURATED)


def _to_int(text: str) -> int:
    # A literal longer than any Int is not an Int (validation refuses it); never
    # hand int() thousands of digits.
    return int(text) if len(text) <= 11 else SATURATED


class _Walker:
    """Measures selection sets children first, each exactly once (memoised by
    node: a fragment's selection set is one node however often it is spread).

    ``variables`` are this request's, over the operation's declared defaults;
    one walker serves one operation of one request, so the memo is valid.
    """

    def __init__(self, fragments: Mapping[str, FragmentDefinitionNode],
                 variables: Mapping[str, Any]) -> None:
        self.fragments = fragments
        self.variables = variables
        self.steps = 0
        self._memo: dict[int, Measure] = {}

    def measure(self, root: SelectionSetNode) -> Measure:
        memo = self._memo
        opened: set[int] = set()
        stack = [root]
        while stack:
            node = stack[-1]
            key = id(node)
            if key in memo:
                stack.pop()
            elif key not in opened:
                opened.add(key)
                # An opened node not yet measured is an ancestor: skipping it is
                # what a cycle would need (validation refuses cycles first).
                stack.extend(child for child in self._children(node)
                             if id(child) not in memo and id(child) not in opened)
            else:
                stack.pop()
                memo[key] = self._combine(node)
        return memo[id(root)]

    def _sub_selection(self, selection: SelectionNode) -> SelectionSetNode | None:
        if isinstance(selection, FragmentSpreadNode):
            fragment = self.fragments.get(selection.name.value)
            return fragment.selection_set if fragment is not None else None
        if isinstance(selection, FieldNode | InlineFragmentNode):
            return selection.selection_set
        return None

    def _children(self, node: SelectionSetNode) -> Iterator[SelectionSetNode]:
        for selection in node.selections:
            child = self._sub_selection(selection)
            if child is not None:
                yield child

    def _combine(self, node: SelectionSetNode) -> Measure:
        fields = depth = aliases = cost = introspection = 0
        for selection in node.selections:
            self.steps += 1
            child_node = self._sub_selection(selection)
            child = self._memo.get(id(child_node), _EMPTY) if child_node is not None else _EMPTY
            aliases = _add(aliases, child.aliases)
            introspection = max(introspection, child.introspection_depth)
            if not isinstance(selection, FieldNode):  # inline fragment or spread: same level
                fields = _add(fields, child.fields)
                depth = max(depth, child.depth)
                cost = _add(cost, child.cost)
                continue
            fields = _add(fields, 1)
            if selection.alias is not None:
                aliases = _add(aliases, 1)
            nested = child.depth + 1 if child_node is not None else 0
            if selection.name.value in _INTROSPECTION_ROOTS:
                introspection = max(introspection, nested)
            else:
                depth = max(depth, nested)
                cost = _add(cost, min(self._multiplier(selection) * child.cost + 1, SATURATED))
        return Measure(fields, depth, aliases, cost, introspection)

    def _multiplier(self, field: FieldNode) -> int:
        for argument in field.arguments or ():
            if argument.name.value == "first":
                value = argument.value
                if isinstance(value, IntValueNode):
                    return min(max(_to_int(value.value), 1), SATURATED)
                if isinstance(value, VariableNode):
                    given = self.variables.get(value.name.value)
                    if isinstance(given, int) and not isinstance(given, bool):
                        return min(max(given, 1), SATURATED)
                    return _DEFAULT_FIRST
        return _IMPLICIT_LIST_SIZE.get(field.name.value, 1)


def _selected_operation(document: DocumentNode, operation_name: object
                        ) -> OperationDefinitionNode | None:
    """The operation that will run: the named one, else the first (strawberry's rule)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        return operations[0] if operations else None
    return next((o for o in operations if o.name is not None and o.name.value == operation_name),
                None)


def _variables(operation: OperationDefinitionNode, given: Mapping[str, Any]) -> dict[str, Any]:
    declared = {d.variable.name.value: _to_int(d.default_value.value)
                for d in operation.variable_definitions or ()
                if isinstance(d.default_value, IntValueNode)}
    return {**declared, **{k: v for k, v in given.items() if v is not None}}


def measure_operation(document: DocumentNode, variables: Mapping[str, Any],
                      operation_name: object = None) -> Measure | None:
    """The measure of the operation ``operation_name`` selects in a *validated*
    document (``None`` when there is no such operation: nothing will run)."""
    operation = _selected_operation(document, operation_name)
    if operation is None:
        return None
    fragments = {d.name.value: d for d in document.definitions
                 if isinstance(d, FragmentDefinitionNode)}
    walker = _Walker(fragments, _variables(operation, variables))
    measured = walker.measure(operation.selection_set)
    return Measure(measured.fields, measured.depth, measured.aliases, measured.cost,
                   measured.introspection_depth, walker.steps)


def limit_errors(document: DocumentNode, limits: LimitsSettings, variables: Mapping[str, Any],
                 operation_name: object = None) -> list[GraphQLError]:
    """Every limit the selected operation of a *validated* ``document`` exceeds,
    as coded errors."""
    operation = _selected_operation(document, operation_name)
    measured = measure_operation(document, variables, operation_name)
    if operation is None or measured is None:
        return []
    checks = (
        ("MAX_ROOT_FIELDS_LIMIT", measured.root_fields, limits.max_root_fields,
         "根字段过多 / too many root fields"),
        ("MAX_DEPTH_LIMIT", measured.depth, limits.max_depth,
         "查询嵌套过深 / the query is nested too deeply"),
        ("MAX_DEPTH_LIMIT", measured.introspection_depth, INTROSPECTION_MAX_DEPTH,
         "内省查询嵌套过深 / the introspection query is nested too deeply"),
        ("MAX_ALIASES_LIMIT", measured.aliases, limits.max_aliases,
         "别名过多 / too many aliases"),
        ("COST_ESTIMATED_TOO_EXPENSIVE", measured.cost, limits.max_cost,
         "查询估算成本过高，请减少分页数量 / the estimated cost is too high"),
    )
    return [GraphQLError(message, operation,
                         extensions={"code": code, "actual": actual, "limit": maximum})
            for code, actual, maximum, message in checks if actual > maximum]


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
        if context.pre_execution_errors:  # refused by the operation gate: nothing to walk
            yield
            return
        document, query = context.graphql_document, context.query
        assert document is not None
        errors = cache.errors.get(query) if query is not None and cache.keep(query) else None
        if errors is None:
            errors = tuple(validate_document(context.schema._schema, document,
                                             context.validation_rules))
            if cache.keep(query):
                assert query is not None
                cache.errors[query] = errors
        # The limits are measured on valid documents only: an invalid one may
        # hold fragment cycles or unknown fragments, and is refused anyway.
        context.pre_execution_errors = list(errors) or limit_errors(
            document, self.limits, context.variables or {}, context.operation_name)
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
