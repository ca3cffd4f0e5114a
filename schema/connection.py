"""Relay-style connections with ``totalCount``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import strawberry

from onedoor.model import MatterRecord
from onedoor.model import MatterStatus as DomainStatus

from .context import RequestContext
from .enums import MatterStatus
from .ids import Position, encode_cursor
from .matter import Matter
from .pagination import page_after, position_of, sort_records
from .present import present

__all__ = ["MatterConnection", "MatterEdge", "PageInfo", "build_connection", "connection_of"]


@strawberry.type(description="分页信息 / pagination state")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type(description="分页中的一项 / an item in a page")
class MatterEdge:
    cursor: str = strawberry.field(description="游标，传给 after 取下一页 / pass as `after`")
    node: Matter


@strawberry.type(description="事项分页列表 / a page of matters")
class MatterConnection:
    edges: list[MatterEdge]
    page_info: PageInfo
    total: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="本页事项 / the matters of this page")
    def nodes(self) -> list[Matter]:
        return [edge.node for edge in self.edges]

    @strawberry.field(description="符合条件的事项总数（仅含有权查看者） / all matches the caller may see")
    async def total_count(self) -> int:
        return await self.total()


def build_connection(
    records: Sequence[MatterRecord],
    ctx: RequestContext,
    *,
    has_next: bool,
    has_previous: bool,
    total: Callable[[], Awaitable[int]],
) -> MatterConnection:
    edges = [MatterEdge(cursor=encode_cursor(position_of(r)), node=present(r, ctx)) for r in records]
    return MatterConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=has_next,
            has_previous_page=has_previous,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total=total,
    )


def connection_of(records: Sequence[MatterRecord], ctx: RequestContext, *, statuses: list[MatterStatus] | None,
                  first: int, after: Position | None) -> MatterConnection:
    """One page of a person's or an organisation's matters, all already read: the status
    filter, newest first, ``first`` after the cursor, and the count of every match."""
    if statuses is not None:
        allowed = {DomainStatus[s.name] for s in statuses}
        records = [r for r in records if r.status in allowed]
    ordered = sort_records(records)
    page, has_next = page_after(ordered, first, after)
    count = len(ordered)

    async def total() -> int:
        return count

    return build_connection(page, ctx, has_next=has_next, has_previous=after is not None, total=total)
