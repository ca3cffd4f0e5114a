"""The audit stage: one hash-chained record per operation that touches citizen
data, appended before the response leaves (PIPL Art.56; MLPS 2.0 level 3).

If the record cannot be written the request fails closed: the data is dropped
and the caller gets ``AUDIT_UNAVAILABLE`` — no data without its record.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator
from typing import Any, Protocol

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from schema.context import RequestContext
from services.audit import AuditEntry, AuditStore, Decision

__all__ = ["AuditTrail", "entry_for"]

log = logging.getLogger("onedoor.audit")

_DENIAL_CODES = frozenset({"UNAUTHORIZED_FIELD_OR_TYPE", "FORBIDDEN"})
_SHORT_CODES = frozenset({"PROJECTION_UNAVAILABLE", "ORGANISATION_TOO_LARGE"})


def entry_for(
    ctx: RequestContext, operation_name: str | None, query: str | None,
    errors: list[GraphQLError],
) -> AuditEntry | None:
    """The record for this operation, or ``None`` when it touched no citizen data
    and denied nothing (e.g. a region lookup)."""
    decisions = [Decision("deny", "no_scope", centre=c.value) for c in sorted(
        ctx.omitted_centres, key=lambda c: c.value)]
    for error in errors:
        code = (error.extensions or {}).get("code")
        if code in _DENIAL_CODES:
            field = ".".join(str(p) for p in error.path or ()) or None
            decisions.append(Decision("deny", str(code).lower(), field=field))
    decisions.extend(ctx.decisions)
    touched = ctx.citizens_touched or ctx.centres_returned or ctx.centres_called
    if not touched and not decisions:
        return None
    # A centre that failed (CENTRE_UNAVAILABLE, …) or an answer cut short (a centre's part
    # of the projection not loaded, an organisation with too many matters); not a centre
    # left out by scope (CENTRE_OMITTED, subgraph mode), which is a denial recorded above.
    failed = any((code.startswith("CENTRE_") and code != "CENTRE_OMITTED") or code in _SHORT_CODES
                 for code in ((e.extensions or {}).get("code", "") for e in errors))
    return AuditEntry(
        sub=ctx.principal.sub,
        client_id=ctx.principal.client_id,
        operation_name=operation_name,
        document_hash=hashlib.sha256(query.encode()).hexdigest() if query else None,
        purpose=ctx.principal.purpose or ctx.purpose,
        citizens=tuple(ctx.citizens_touched),
        centres=tuple(c.value for c in ctx.centres_called),
        unmasked_fields=tuple(sorted(ctx.unmasked_fields)),
        decisions=tuple(decisions),
        result_count=ctx.records_returned,
        outcome="partial" if failed else ("denied" if decisions and not ctx.records_returned
                                          else "ok"),
        request_id=ctx.request_id,
    )


class StoreHolder(Protocol):
    store: AuditStore | None


class AuditTrail(SchemaExtension):
    """Appends the record before the answer leaves; fails closed.

    A query or mutation over HTTP is recorded once, when the operation ends.
    Anything streamed — every subscription event, and a query sent over a
    WebSocket — is recorded per result in ``on_stream_result``, before that
    result is handed to the transport: an event whose record cannot be
    written is not delivered.
    """

    def __init__(self, holder: StoreHolder) -> None:
        self.holder = holder
        self.streamed = False

    async def on_operation(self) -> AsyncIterator[None]:
        yield
        result = self.execution_context.result
        if not self.streamed and result is not None:
            await self._record(result)

    async def on_stream_result(self, result: Any) -> AsyncIterator[None]:
        self.streamed = True
        await self._record(result)
        ctx = self.execution_context.context
        if isinstance(ctx, RequestContext):
            # The next event is a new disclosure with a record of its own. (Not for
            # a single answer: the response extensions still read what it touched.)
            ctx.reset_disclosures()
        yield

    async def _record(self, result: Any) -> None:
        execution = self.execution_context
        ctx = execution.context
        if not isinstance(ctx, RequestContext):
            return
        errors: list[GraphQLError] = list(getattr(result, "errors", None) or [])
        entry = entry_for(ctx, execution.operation_name, execution.query, errors)
        if entry is None:
            return
        try:
            if self.holder.store is None:
                raise RuntimeError("audit store not open")
            await self.holder.store.append(entry)
        except Exception as exc:
            log.error("audit append failed (%s) request_id=%s", type(exc).__name__,
                      ctx.request_id)
            result.data = None
            result.errors = [GraphQLError(
                "审计记录暂时无法写入，本次查询未返回数据 / the audit trail is unavailable; "
                "no data was returned",
                extensions={"code": "AUDIT_UNAVAILABLE", "correlationId": ctx.request_id},
            )]
