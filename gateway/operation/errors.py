"""Error hygiene: expected errors keep their stable code; anything unexpected
is replaced by a generic message with a correlation id that the logs carry.

Expected means: our own errors (they carry ``extensions.code``), and errors
graphql-core raises about the document itself (parse and validation), which
describe the client's query, never the backend.

Unexpected errors reach a client two ways, and both pass here:

- as errors in the result (a resolver raised; strawberry turned a parse crash
  into an error): masked when the operation ends, or per streamed result;
- as an exception escaping an extension hook inside the operation
  (validation, the limits, the audit stage): strawberry would answer it with
  the raw message and skip every extension's post-processing. It is logged
  through the schema's ``process_errors`` and re-raised as the masked error,
  which strawberry then answers as it is.

The transport's own refusals (no query, an unknown operation name, a mutation
over GET) pass through untouched: the HTTP view answers them with a 400.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import MaskErrors
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from schema.errors import is_expected

__all__ = ["ErrorHygiene"]

_TRANSPORT_REFUSALS = (MissingQueryError, CannotGetOperationTypeError, InvalidOperationTypeError)


class ErrorHygiene(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda e: not is_expected(e))

    def on_operation(self) -> Iterator[None]:
        try:
            yield from super().on_operation()
        except _TRANSPORT_REFUSALS:
            raise
        except Exception as exc:  # anything: RecursionError, a bug in a hook, …
            error = exc if isinstance(exc, GraphQLError) else GraphQLError(str(exc),
                                                                           original_error=exc)
            if is_expected(error):
                raise
            self.execution_context.schema.process_errors([error], self.execution_context)
            raise self.anonymise_error(error) from None

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        request_id = getattr(self.execution_context.context, "request_id", "-")
        return GraphQLError(
            message=f"内部错误，请凭编号联系管理员 / internal error (ref {request_id})",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": "INTERNAL_SERVER_ERROR", "correlationId": request_id},
        )
