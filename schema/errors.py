"""GraphQL errors with stable ``extensions.code`` values.

Messages carry Chinese and English; nothing from a backend (body, URL,
stack) ever enters one — a centre failure is described by its centre and code.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError

from connectors.errors import CentreError

__all__ = ["bad_input", "centre_error", "forbidden", "is_expected"]


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
