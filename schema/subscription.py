"""``subscription matterUpdates(id)``: a matter's progress, live (graphql-transport-ws).

The first message is the matter as it is now; then one message per change
the centre reports — by webhook, or by the gateway polling centres that have
none. Every message is a fresh read through the centre's connector, masked
for this caller like any other answer, and recorded by the audit stage
before it is delivered (``AuditTrail.on_stream_result``).

The stream ends with ``UNAUTHENTICATED`` when the caller's token expires —
on every transport, because the wait for the next change is bounded by it.
A centre the caller may not read is never called: the stream just ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable
from typing import TypeVar

import strawberry
from graphql import GraphQLError

from connectors.errors import CentreError
from onedoor.model import MatterRecord
from services.filing import fresh_read

from .context import RequestContext
from .errors import centre_error, forbidden
from .matter import Matter
from .present import present
from .scopes import READ_ANY
from .validation import global_id_arg

__all__ = ["Subscription"]

T = TypeVar("T")


async def _until_expiry(ctx: RequestContext, waiting: Awaitable[T]) -> T:
    """Wait for the next change, but not past the token's expiry."""
    left = ctx.principal.seconds_left()
    if left is None:
        return await waiting
    try:
        return await asyncio.wait_for(waiting, timeout=max(left, 0.0))
    except TimeoutError:
        raise unauthenticated() from None


def unauthenticated() -> GraphQLError:
    return GraphQLError("令牌已过期，订阅结束 / the token has expired; the subscription ended",
                        extensions={"code": "UNAUTHENTICATED"})


@strawberry.type(description="订阅 / subscriptions")
class Subscription:
    @strawberry.subscription(description="事项办理进度实时推送 / live progress of a matter")
    async def matter_updates(self, info: strawberry.Info,
                             id: strawberry.ID) -> AsyncGenerator[Matter, None]:
        ctx: RequestContext = info.context
        held = ctx.principal.scopes
        if not any(all(s in held for s in group) for group in READ_ANY):
            raise forbidden("无权订阅 / not authorised to follow matters")
        if ctx.filing is None:
            return
        centre, native_id = global_id_arg(id)
        if not ctx.may_call(centre):
            return  # as if it did not exist: no centre call, nothing to follow
        connector = ctx.connectors[centre]

        async def read() -> MatterRecord | None:
            try:
                record = await fresh_read(connector, native_id)
            except CentreError as exc:
                raise centre_error(exc) from exc
            return record if record is not None and ctx.may_call(centre) and ctx.visible(record) else None

        async with ctx.filing.updates.watch(centre, native_id) as changes:
            record = await read()
            if record is None:
                return  # unknown or not visible: the stream just ends
            last = (record.centre_status, len(record.events))
            yield present(record, ctx)
            while True:
                await _until_expiry(ctx, changes.get())
                record = await read()
                if record is None:
                    return
                seen = (record.centre_status, len(record.events))
                if seen != last:
                    last = seen
                    yield present(record, ctx)
