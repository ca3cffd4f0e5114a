"""``subscription matterUpdates(id)``: a matter's progress, live (graphql-transport-ws).

The first message is the matter as it is now; then one message per change
the centre reports — by webhook, or by the gateway polling centres that have
none. Every message is a fresh read through the centre's connector, masked
for this caller like any other answer.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

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
                await changes.get()
                record = await read()
                if record is None:
                    return
                seen = (record.centre_status, len(record.events))
                if seen != last:
                    last = seen
                    yield present(record, ctx)
