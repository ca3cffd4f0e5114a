"""Fetching what the dispatcher's view counts: a region's matters of a period.

Shared by ``statistics``, ``overdue`` and ``escalations``. Three rules live here:

- **Jurisdiction**: the requested region must lie inside the caller's
  ``regions``; otherwise the field fails with ``FORBIDDEN`` (a clear refusal
  rather than silent zeros, so an analyst never mistakes "not yours" for "none").
- **Push-down**: a centre whose connector offers ``summarize``
  (:class:`~connectors.base.SummaryConnector`) aggregates on its side.
- **Bounds**: the others are paged through their list API, newest first, up
  to :data:`MAX_RECORDS` per centre per call; a larger result is refused with
  ``STATISTICS_TOO_LARGE`` (narrow the period or region) instead of
  silently undercounting or paging without end.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from graphql import GraphQLError

from connectors.base import ListQuery, SummaryConnector, SummaryQuery
from connectors.errors import CentreError
from onedoor import regions as ref
from onedoor.model import CST, Centre, MatterRecord, MatterStatus

from .context import RequestContext
from .errors import forbidden
from .fetch import report
from .kpi import CellKey, Cells, Figures, add_records, child_digits, child_region
from .validation import region_arg

__all__ = ["MAX_RECORDS", "OPEN", "Gathered", "check_region", "gather_cells", "period", "region_records"]

MAX_RECORDS = 20_000
OPEN = (MatterStatus.REGISTERED, MatterStatus.ACCEPTED, MatterStatus.IN_PROGRESS, MatterStatus.TRANSFERRED)


def check_region(ctx: RequestContext, code: str) -> str:
    """The region's canonical prefix, if it lies inside the caller's jurisdiction."""
    prefix = region_arg(code, "regionCode")
    if not ctx.principal.in_jurisdiction(prefix):
        raise forbidden("该区域超出您的管辖范围 / the region is outside your jurisdiction")
    return prefix


def period(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """``[start 00:00, end 23:59:59]`` CST; both dates count."""
    if end < start:
        from .errors import bad_input

        raise bad_input("结束日期早于开始日期 / `to` is before `from`", field="to", reason="range")
    return (dt.datetime.combine(start, dt.time(0), CST),
            dt.datetime.combine(end, dt.time(23, 59, 59), CST))


async def region_records(ctx: RequestContext, centre: Centre, query: ListQuery) -> list[MatterRecord]:
    """Every match of ``query`` at ``centre`` (bounded by :data:`MAX_RECORDS`)."""
    page = await ctx.connectors[centre].list_matters(
        ListQuery(region_prefixes=query.region_prefixes, statuses=query.statuses,
                  received_from=query.received_from, received_to=query.received_to,
                  limit=MAX_RECORDS))
    if page.total > len(page.items):
        raise GraphQLError(
            f"{centre.value} 记录超过{MAX_RECORDS}条，请缩小时间或区域范围 / more than {MAX_RECORDS} records "
            "at one centre: narrow the period or region",
            extensions={"code": "STATISTICS_TOO_LARGE", "centre": centre.value, "limit": MAX_RECORDS})
    return [r for r in page.items if ctx.principal.in_jurisdiction(r.region_code)]


@dataclass
class Gathered:
    cells: Cells = field(default_factory=dict)
    sources: dict[Centre, tuple[bool, int]] = field(default_factory=dict)  # pushed down?, records
    missing: list[Centre] = field(default_factory=list)


async def _one(ctx: RequestContext, centre: Centre, prefix: str, span: tuple[dt.datetime, dt.datetime],
               push_down: bool, into: Gathered) -> None:
    connector = ctx.connectors[centre]
    if push_down and isinstance(connector, SummaryConnector):
        digits = child_digits(prefix)
        cells = await connector.summarize(SummaryQuery(prefix, span[0], span[1], digits))
        total = 0
        for cell in cells:
            key = CellKey(centre, cell.category, cell.month, child_region(cell.region.ljust(12, "0"), prefix))
            into.cells.setdefault(key, Figures()).add(Figures.of(cell.counts))
            total += int(cell.counts.get("registered", 0))
        into.sources[centre] = (True, total)
        return
    records = await region_records(ctx, centre, ListQuery(region_prefixes=(prefix,), received_from=span[0],
                                                          received_to=span[1]))
    add_records(into.cells, records, prefix, ctx.now)
    into.sources[centre] = (False, len(records))


async def gather_cells(ctx: RequestContext, prefix: str, span: tuple[dt.datetime, dt.datetime],
                       push_down: bool, path: list[str | int], centres: Sequence[Centre] | None = None) -> Gathered:
    """KPI cells of every centre; a failing centre is reported (partial result) and listed as missing."""
    out = Gathered()
    wanted = tuple(centres) if centres is not None else tuple(c for c in Centre if c in ctx.connectors)
    results = await asyncio.gather(*(_one(ctx, c, prefix, span, push_down, out) for c in wanted),
                                   return_exceptions=True)
    for centre, result in zip(wanted, results, strict=True):
        if isinstance(result, CentreError):
            report(ctx, result, path)
            out.missing.append(centre)
        elif isinstance(result, BaseException):
            raise result
    return out


def region_name(code: str) -> str:
    try:
        return ref.get_region(code).name
    except ref.UnknownRegion:
        return code
