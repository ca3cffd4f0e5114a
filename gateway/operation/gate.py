"""The operation gate: the first step of every GraphQL operation, on every transport.

HTTP GET and POST, each entry of a batched array, every WebSocket
``subscribe`` and every HTTP streaming subscription reach the schema through
strawberry's ``execute`` or ``stream``, and both run the schema extensions.
This one runs first, so everything after it sees what it decided:

1. a fresh :class:`~schema.context.RequestContext` for this operation (own
   loaders, own record of the citizens it touched) — a WebSocket's
   operations never share one;
2. the caller: an expired token, or no token where anonymous callers are
   refused, ends the operation here (``UNAUTHENTICATED``);
3. persisted queries and the safelist: a hash becomes its document, an
   unlisted document is refused (``QUERY_NOT_IN_SAFELIST``) before it is
   parsed;
4. input bounds: no string — in the variables or written in the document —
   longer than ``max_string_chars`` reaches a resolver or a centre
   (``BAD_USER_INPUT``), whatever field or type it is for.

A refusal replaces the document with a one-field stand-in and the
validation result with the refusal, so no other extension parses, walks or
executes what was refused, and the transports answer it like any other
request error.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    NameNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    StringValueNode,
    Visitor,
    visit,
)
from strawberry.extensions import SchemaExtension

from schema.context import RequestContext

from ..persisted import PersistedQueries, PersistedQueryError

__all__ = ["OperationGate", "refusal_document"]

_NAME_CHARS = frozenset("_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def refusal_document(operation_name: str | None) -> DocumentNode:
    """``query <name> { __typename }``: parsed by nobody, named as the client asked
    so that strawberry can still tell the operation's type."""
    name = operation_name if (operation_name and set(operation_name) <= _NAME_CHARS
                              and not operation_name[0].isdigit()) else None
    return DocumentNode(definitions=(OperationDefinitionNode(
        operation=OperationType.QUERY,
        name=NameNode(value=name) if name else None,
        variable_definitions=(),
        directives=(),
        selection_set=SelectionSetNode(selections=(FieldNode(
            name=NameNode(value="__typename"), arguments=(), directives=()),)),
    ),))


def unauthenticated(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "UNAUTHENTICATED"})


class OperationGate(SchemaExtension):
    def __init__(self, *, reject_anonymous: bool, persisted: PersistedQueries | None,
                 max_string_chars: int = 10_000) -> None:
        self.reject_anonymous = reject_anonymous
        self.persisted = persisted
        self.max_string_chars = max_string_chars
        self.refusal: GraphQLError | None = None

    def on_operation(self) -> Iterator[None]:
        execution = self.execution_context
        ctx = execution.context
        if isinstance(ctx, RequestContext):
            ctx = execution.context = ctx.fork()
            self.refusal = self._refusal(ctx)
        if self.refusal is not None:
            # Nothing later may parse, cache or execute the refused text.
            execution.graphql_document = refusal_document(execution.operation_name)
            execution.query = None
        yield

    def on_validate(self) -> Iterator[None]:
        # Set before the other extensions validate: they leave a refused
        # operation alone, and strawberry then skips its own validation.
        execution = self.execution_context
        if self.refusal is None and execution.graphql_document is not None:
            self.refusal = self._too_long(execution.graphql_document, execution.variables)
        if self.refusal is not None:
            execution.pre_execution_errors = [self.refusal]
        yield

    def _too_long(self, document: DocumentNode, variables: Any) -> GraphQLError | None:
        limit = self.max_string_chars
        longest = max(_string_lengths(variables), default=0)
        if longest <= limit:
            collector = _Literals()
            visit(document, collector)
            longest = max(collector.lengths, default=0)
        if longest <= limit:
            return None
        return GraphQLError(
            f"输入过长（最多 {limit} 字） / an input string is too long (at most {limit} characters)",
            extensions={"code": "BAD_USER_INPUT", "maxLength": limit, "actual": longest})

    def _refusal(self, ctx: RequestContext) -> GraphQLError | None:
        principal = ctx.principal
        if principal.expired():
            return unauthenticated("令牌已过期 / the token has expired")
        if self.reject_anonymous and not principal.authenticated:
            return unauthenticated("需要令牌 / a bearer token is required")
        if self.persisted is None:
            return None
        execution = self.execution_context
        extensions: Any = execution.operation_extensions
        try:
            execution.query = self.persisted.resolve(
                execution.query, extensions if isinstance(extensions, dict) else None)
        except PersistedQueryError as exc:
            return exc.as_graphql_error()
        return None


class _Literals(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.lengths: list[int] = []

    def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
        self.lengths.append(len(node.value))


def _string_lengths(value: Any, depth: int = 0) -> Iterator[int]:
    """Lengths of every string in a variables value (bounded depth: JSON from a client)."""
    if isinstance(value, str):
        yield len(value)
    elif depth < 32 and isinstance(value, dict):
        for item in value.values():
            yield from _string_lengths(item, depth + 1)
    elif depth < 32 and isinstance(value, list):
        for item in value:
            yield from _string_lengths(item, depth + 1)
