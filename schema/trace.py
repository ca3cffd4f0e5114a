"""``Citizen.trace``: the cross-centre chain of one citizen's matters — referrals,
escalations, confirmations — in time order, for auditors (``audit:read``).

Starting from the citizen's own matters it follows links (batched per centre by
the request's loaders) up to a few hops, so a chain like grid event → mediation →
petition is complete even where the citizen is not a party at every step.
A confidential record is followed only where the caller may reach it
(:func:`~schema.present.confidential_access`), as for the citizen's own matters.
"""

from __future__ import annotations

import asyncio

import strawberry

from connectors.errors import CentreError
from onedoor.model import Centre, LinkRecord, MatterRecord
from policy.disclosure import Access

from .context import RequestContext
from .enums import LinkRelation
from .fetch import citizen_records, report
from .matter import Matter
from .pagination import sort_records
from .present import confidential_access, present

__all__ = ["CitizenTrace", "TraceLink", "build_trace"]

MAX_HOPS = 3


@strawberry.type(description="追溯链中的一条关联 / one link in a citizen's trace")
class TraceLink:
    source: Matter = strawberry.field(description="起点事项 / from")
    relation: LinkRelation = strawberry.field(description="关系 / relation")
    target: Matter = strawberry.field(description="终点事项 / to")


@strawberry.type(description="跨中心追溯：事项按时间顺序及其关联 / the cross-centre chain, oldest first")
class CitizenTrace:
    matters: list[Matter] = strawberry.field(description="事项，按受理时间正序 / oldest first")
    links: list[TraceLink] = strawberry.field(description="关联 / links between them")


async def build_trace(ctx: RequestContext, id_number: str, path: list[str | int]) -> CitizenTrace:
    known: dict[tuple[Centre, str], MatterRecord] = {
        r.key: r for r in await citizen_records(ctx, id_number, None, path)
    }
    frontier = list(known.values())
    for _ in range(MAX_HOPS):
        wanted: list[LinkRecord] = [
            link for record in frontier for link in record.links
            if (link.centre, link.native_id) not in known and ctx.may_call(link.centre)
        ]
        if not wanted:
            break
        loaded = await asyncio.gather(
            *(ctx.loaders.matter(link.centre, link.native_id) for link in wanted),
            return_exceptions=True,
        )
        frontier = []
        for result in loaded:
            if isinstance(result, CentreError):
                report(ctx, result, path)
            elif isinstance(result, BaseException):
                raise result
            elif (result is not None and ctx.visible(result) and result.key not in known
                  and confidential_access(result, ctx, path) is not Access.HIDDEN):
                known[result.key] = result
                frontier.append(result)
    ordered = list(reversed(sort_records(known.values())))
    shown = {r.key: present(r, ctx) for r in ordered}
    links: list[TraceLink] = []
    for record in ordered:
        for link in record.links:
            target = shown.get((link.centre, link.native_id))
            if target is not None:
                links.append(TraceLink(source=shown[record.key],
                                       relation=LinkRelation[link.relation.name], target=target))
    return CitizenTrace(matters=list(shown.values()), links=links)
