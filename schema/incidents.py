"""Which errors are logged: only unexpected ones, by type and stack.

Expected errors (bad input, denials, centre failures) are answers, not
incidents, and an exception's message may quote personal data. Every schema
of OneDoor (the default one and the federation subgraph) logs through here.
"""

from __future__ import annotations

import logging
import traceback

from graphql import GraphQLError
from strawberry.types import ExecutionContext

from .errors import is_expected

__all__ = ["log_unexpected"]

_log = logging.getLogger("onedoor.errors")


def log_unexpected(errors: list[GraphQLError], execution_context: ExecutionContext | None) -> None:
    request_id = getattr(getattr(execution_context, "context", None), "request_id", "-")
    for error in errors:
        if is_expected(error):
            continue
        original = error.original_error
        stack = "".join(traceback.format_tb(original.__traceback__)) if original else ""
        _log.error("unexpected %s request_id=%s\n%s", type(original).__name__, request_id, stack)
