"""GraphQL errors with stable ``extensions.code`` values.

Messages carry Chinese and English; nothing from a backend (body, URL,
stack) ever enters one — a centre failure is described by its centre and code.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError

from connectors.errors import CentreError
from onedoor.model import Centre

__all__ = ["bad_input", "centre_error", "forbidden", "is_expected", "projection_unavailable"]


def is_expected(error: GraphQLError) -> bool:
    """Our own errors (they carry a code) and graphql-core's errors about the
    document itself are answers; anything else is an incident to mask and log."""
    if error.extensions and "code" in error.extensions:
        return True
    original = error.original_error
    return original is None or isinstance(original, GraphQLError | CentreError)


def centre_error(exc: CentreError, path: list[str | int] | None = None) -> GraphQLError:
    return GraphQLError(
        exc.public_message,
        path=path,
        original_error=exc,
        extensions={"code": exc.code, "centre": exc.centre.value},
    )


def bad_input(message: str, *, field: str, reason: str, **extra: Any) -> GraphQLError:
    return GraphQLError(
        message,
        extensions={"code": "BAD_USER_INPUT", "field": field, "reason": reason, **extra},
    )


def forbidden(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "FORBIDDEN"})


def projection_unavailable(centre: Centre | None = None, path: list[str | int] | None = None) -> GraphQLError:
    """A field that only the analytic projection can answer, without one — or, with
    ``centre``, with that centre's part not loaded yet (its matters are left out)."""
    if centre is None:
        return GraphQLError(
            "此查询需要网关的分析副本，当前未启用或未就绪 / this query needs the gateway's analytic projection, "
            "which is not enabled or not open", path=path, extensions={"code": "PROJECTION_UNAVAILABLE"})
    return GraphQLError(
        f"分析副本尚未载入{centre.value}的数据，其事项未列入 / the projection has not loaded {centre.value} yet: "
        "its matters are left out", path=path, extensions={"code": "PROJECTION_UNAVAILABLE", "centre": centre.value})
