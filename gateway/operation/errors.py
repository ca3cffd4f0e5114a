"""Error hygiene: expected errors keep their stable code; anything unexpected
is replaced by a generic message with a correlation id that the logs carry.

Expected means: our own errors (they carry ``extensions.code``), and errors
graphql-core raises about the document itself (parse and validation), which
describe the client's query, never the backend.
"""

from __future__ import annotations

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from schema.errors import is_expected

__all__ = ["ErrorHygiene"]


class ErrorHygiene(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda e: not is_expected(e))

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
