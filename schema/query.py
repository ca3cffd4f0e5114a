"""The root ``Query`` type."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry

from connectors.base import ListQuery, MatterPage
from connectors.errors import CentreError
from onedoor import regions as ref
from onedoor.model import Centre as DomainCentre
from onedoor.model import MatterStatus as DomainStatus
from onedoor.model import ResidentRecord
from policy.disclosure import CONFIDENTIAL_SCOPE, Protections, Reason, minor_on, protections_of

from .audit import AuditTrailPage, audit_trail
from .citizen import Citizen, build_citizen
from .connection import MatterConnection, build_connection
from .context import RequestContext
from .enums import Centre, MatterStatus
from .errors import centre_error, forbidden
from .fetch import citizen_records, report
from .matter import Matter, Node
from .pagination import merge_centres
from .present import present
from .region import Region
from .scopes import READ_ANY, requires_scopes
from .validation import check_first, cursor_arg, global_id_arg, region_arg, resident_id_arg

__all__ = ["MatterFilter", "Query"]


@strawberry.input(description="事项筛选条件 / filter for matters")
class MatterFilter:
    region_prefix: str | None = strawberry.field(
        default=None, description="行政区划代码（含下级） / region code, including everything below"
    )
    centres: list[Centre] | None = strawberry.field(default=None, description="中心 / centres")
    statuses: list[MatterStatus] | None = strawberry.field(default=None, description="状态 / statuses")
    categories: list[str] | None = strawberry.field(default=None, description="类别 / categories")
    received_from: dt.datetime | None = strawberry.field(default=None, description="受理起 / from")
    received_to: dt.datetime | None = strawberry.field(default=None, description="受理止 / to")
    overdue: bool | None = strawberry.field(default=None, description="仅超期 / overdue only")


def _intersect(filter_prefix: str | None, jurisdiction: tuple[str, ...]) -> tuple[str, ...]:
    """Region prefixes that satisfy both the filter and the caller's jurisdiction."""
    if filter_prefix is None:
        return jurisdiction
    if any(filter_prefix.startswith(j) for j in jurisdiction):
        return (filter_prefix,)
    return tuple(j for j in jurisdiction if j.startswith(filter_prefix))


_NEEDS_MATTERS = frozenset({"matters", "timeline", "trace"})


def _wants_matters(info: strawberry.Info) -> bool:
    """Whether the selection under this field reads the citizen's matters."""
    pending = list(info.selected_fields)
    while pending:
        node = pending.pop()
        for child in getattr(node, "selections", ()):
            if getattr(child, "name", None) in _NEEDS_MATTERS:
                return True
            if not hasattr(child, "name") or getattr(child, "type_condition", None) is not None:
                pending.append(child)  # inline fragment or fragment spread
    return False


async def _base_data(ctx: RequestContext, id_number: str,
                     path: list[str | int]) -> ResidentRecord | None:
    """The register entry, or ``None`` when absent, unavailable (reported as a
    partial error: the person's matters still answer) or not the caller's to
    read (GOVERNANCE is then not called and is named in ``omittedCentres``)."""
    if not ctx.may_call(DomainCentre.GOVERNANCE):
        ctx.omitted_centres.add(DomainCentre.GOVERNANCE)
        return None
    try:
        return await ctx.loaders.resident(id_number)
    except CentreError as exc:
        report(ctx, exc, path)
        return None


async def _protections(ctx: RequestContext, id_number: str,
                       path: list[str | int]) -> Protections:
    """How the citizen view is guarded. A person reading their own entry is not
    protected from themself. A minor is masked for everyone else. A holder of the
    confidential scope — the only other caller who reaches a confidential record
    through a person — sees its protected person masked in the citizen view too;
    for anyone else such records stay hidden, and the view is that of any resident
    (so the masking itself never tells that someone is protected)."""
    if ctx.self_service:
        return Protections(subject=id_number)
    if minor_on(id_number, ctx.now.date()):
        return Protections(subject=id_number, reason=Reason.MINOR)
    if ctx.principal.has(CONFIDENTIAL_SCOPE):
        for record in await citizen_records(ctx, id_number, None, path):
            guard = protections_of(record)
            if guard.confidential is not None and id_number in guard.protected_ids:
                return Protections(subject=id_number, reason=guard.confidential)
    return Protections(subject=id_number)


async def _citizen(ctx: RequestContext, id_number: str, info: strawberry.Info) -> Citizen | None:
    path = info.path.as_list()
    if _wants_matters(info):
        # Start the centres' citizen searches now, beside the base-data lookup,
        # instead of one level later: both are needed, neither depends on the other.
        for centre in ctx.connectors:
            if ctx.may_call(centre):
                ctx.loaders.prefetch_matters_of(centre, id_number)
    resident = await _base_data(ctx, id_number, path)
    at_home = resident is not None and ctx.principal.in_jurisdiction(resident.region_code)
    # Outside the caller's jurisdiction, absent from the register, or the register
    # unavailable: the person is visible only through a matter in the caller's view,
    # so jurisdiction follows their matters' regions. A real resident elsewhere and
    # a made-up ID cost the same calls here, so neither answer times differently.
    if not (at_home or ctx.self_service) and not await citizen_records(ctx, id_number, None, path):
        return None
    return build_citizen(id_number, resident, ctx, await _protections(ctx, id_number, path))


async def _matter(ctx: RequestContext, global_id: str) -> Matter | None:
    centre, native_id = global_id_arg(global_id)
    if not ctx.may_call(centre):
        ctx.omitted_centres.add(centre)
        return None
    try:
        record = await ctx.loaders.matter(centre, native_id)
    except CentreError as exc:
        raise centre_error(exc) from exc
    if record is None or not ctx.visible(record):
        return None
    return present(record, ctx)


@strawberry.type(description="查询入口 / queries")
class Query:
    @strawberry.field(description="按公民身份号码查询群众 / a resident by resident ID",
                      extensions=[requires_scopes(*READ_ANY)])
    async def citizen(self, info: strawberry.Info, id_number: str) -> Citizen | None:
        ctx: RequestContext = info.context
        canonical = resident_id_arg(id_number)
        principal = ctx.principal
        if principal.has("citizen:self") and canonical != principal.citizen_id:
            raise forbidden("只能查询本人信息 / a citizen token may read only its own data")
        return await _citizen(ctx, canonical, info)

    @strawberry.field(description="本人（citizen:self 令牌） / the citizen the token belongs to",
                      extensions=[requires_scopes(["citizen:self"])])
    async def me(self, info: strawberry.Info) -> Citizen | None:
        ctx: RequestContext = info.context
        if not ctx.self_service or ctx.principal.citizen_id is None:
            raise forbidden("需要 citizen:self 令牌 / needs a citizen:self token")
        return await _citizen(ctx, ctx.principal.citizen_id, info)

    @strawberry.field(description="按全局ID查询事项 / a matter by global id",
                      extensions=[requires_scopes(*READ_ANY)])
    async def matter(self, info: strawberry.Info, id: strawberry.ID) -> Matter | None:
        return await _matter(info.context, id)

    @strawberry.field(description="按全局ID查询任意对象 / any object by global id",
                      extensions=[requires_scopes(*READ_ANY)])
    async def node(self, info: strawberry.Info, id: strawberry.ID) -> Node | None:
        return await _matter(info.context, id)

    @strawberry.field(description="跨中心事项列表（按受理时间倒序合并） / matters across centres, newest first",
                      extensions=[requires_scopes(*READ_ANY[:-1])])
    async def matters(
        self,
        info: strawberry.Info,
        filter: MatterFilter | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> MatterConnection:
        ctx: RequestContext = info.context
        filter = filter or MatterFilter()  # no filter: everything the caller may see
        check_first(first)
        position = cursor_arg(after)
        prefix = region_arg(filter.region_prefix, "filter.regionPrefix") if filter.region_prefix else None
        wanted = tuple(DomainCentre[c.name] for c in filter.centres) if filter.centres else None
        centres = ctx.readable(wanted)
        prefixes = _intersect(prefix, ctx.principal.regions)
        base = ListQuery(
            region_prefixes=prefixes,
            statuses=tuple(DomainStatus[s.name] for s in filter.statuses) if filter.statuses else None,
            categories=tuple(filter.categories) if filter.categories else None,
            received_from=filter.received_from,
            received_to=filter.received_to,
            overdue=filter.overdue,
        )
        path = info.path.as_list()
        if not centres or not prefixes:
            return build_connection([], ctx, has_next=False, has_previous=False, total=_zero)

        async def fetch(centre: DomainCentre, query: ListQuery) -> MatterPage:
            return await ctx.connectors[centre].list_matters(query)

        result = await merge_centres(fetch, centres, base, first, position)
        for exc in result.errors.values():
            report(ctx, exc, path)
        known = result.totals

        async def total() -> int:
            if known is not None:
                return sum(known.values())
            pages = await merge_centres(fetch, centres, base, 0, None)
            return sum((pages.totals or {}).values())

        return build_connection(
            result.items, ctx, has_next=result.has_next, has_previous=position is not None,
            total=total,
        )

    @strawberry.field(
        description="某人个人信息的访问记录（谁、何时、为何、看了什么） / who accessed a citizen's data",
        extensions=[requires_scopes(["audit:read"])],
    )
    async def audit_trail(
        self,
        info: strawberry.Info,
        citizen_id: str,
        from_: Annotated[dt.datetime | None, strawberry.argument(name="from")] = None,
        to: dt.datetime | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> AuditTrailPage:
        return await audit_trail(info.context, citizen_id, from_, to, first, after)

    @strawberry.field(description="行政区划 / an administrative division")
    def region(self, code: str) -> Region | None:
        from .region import region_of

        region_arg(code)
        return region_of(ref.get_region(code).code)


async def _zero() -> int:
    return 0
