"""``overdue`` and ``escalations``: the dispatcher's work lists.

``overdue`` lists open matters with a missed deadline (rules and day counts
in :mod:`onedoor.deadlines` and :mod:`onedoor.periods`); ``escalations`` follows cross-centre links from
grid events and mediations registered in a period (grid → mediation →
petition or court), for the monthly analysis (月研判). Both need ``stats:read``
and a region inside the caller's jurisdiction, and both show references,
categories and statuses only — no names, IDs or titles (titles name parties).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Annotated

import strawberry

from connectors.base import ListQuery
from connectors.errors import CentreError
from onedoor.model import CST, LinkRelation, MatterRecord
from onedoor.model import Centre as DomainCentre

from .context import RequestContext
from .deadlines import Overdue, day_count, overdue_of
from .enums import Centre, MatterStatus
from .fetch import report
from .gather import OPEN, check_region, period, region_name, region_records
from .ids import encode_id
from .projected import projected_chains, projected_overdue
from .scopes import requires_scopes

__all__ = ["EscalationChain", "EscalationStep", "OverdueItem", "OverdueQuery"]

_FOLLOW = (LinkRelation.REFERRED_TO, LinkRelation.ESCALATED_TO, LinkRelation.LITIGATED_AS, LinkRelation.CONFIRMED_BY)


@strawberry.type(description="超期事项（不含个人信息） / an overdue matter (no personal data)")
class OverdueItem:
    id: strawberry.ID = strawberry.field(description="全局ID / global id (for `matter(id:)`)")
    centre: Centre = strawberry.field(description="所属中心 / owning centre")
    reference: str = strawberry.field(description="中心编号 / the centre's number")
    category: str = strawberry.field(description="类别 / category")
    region_code: str = strawberry.field(description="区划代码 / region code")
    region_name: str = strawberry.field(description="区划名称 / region name")
    centre_status: str = strawberry.field(description="中心状态 / the centre's own status")
    received_at: dt.datetime = strawberry.field(description="登记时间 / registered at")
    deadline_kind: str = strawberry.field(description=(
        "时限类型 / which deadline: PETITION_ACCEPTANCE, PETITION_HANDLING, LEGAL_AID_DECISION, "
        "LEGAL_AID_ASSIGNMENT, MEDIATION, LITIGATION, GRID_DISPATCH"))
    due_at: dt.datetime = strawberry.field(description="时限届满时刻 / the instant the deadline passed")
    days_overdue: int = strawberry.field(description="超期天数 / days past the deadline")
    statute: str = strawberry.field(description="依据 / the statute, e.g. 信访工作条例 第二十二条")
    statute_en: str = strawberry.field(description="依据（英文） / the statute in English")
    day_count: str = strawberry.field(description=(
        "计日方式：CALENDAR_DAYS 按日、CALENDAR_MONTHS 按月（民法典第二百零一至二百零三条：开始当日不计入，"
        "末日逢法定休假日顺延，至24时止） / ELAPSED_TIME 按时计（中心自报届满时刻） — how the period is counted"))
    extension_days: int = strawberry.field(description=(
        "已批准并计入期限的延长天数（信访条例第三十四条，不超过30日） / an approved extension already in dueAt"))


@strawberry.type(description="升级链中的一步 / one step of an escalation chain")
class EscalationStep:
    id: strawberry.ID = strawberry.field(description="全局ID / global id")
    centre: Centre = strawberry.field(description="中心 / centre")
    reference: str = strawberry.field(description="中心编号 / the centre's number")
    category: str = strawberry.field(description="类别 / category")
    region_code: str = strawberry.field(description="区划代码 / region code")
    status: MatterStatus = strawberry.field(description="统一状态 / unified status")
    centre_status: str = strawberry.field(description="中心状态 / the centre's own status")
    received_at: dt.datetime = strawberry.field(description="登记时间 / registered at")


@strawberry.type(description="跨中心升级链（网格→调解→信访/法院） / a matter's path across centres")
class EscalationChain:
    steps: list[EscalationStep] = strawberry.field(description="按发生顺序 / in order")
    reached_petition: bool = strawberry.field(description="是否转为信访 / ended up as a petition")
    reached_court: bool = strawberry.field(description=(
        "是否进入诉讼（司法确认不计：那是调解成功） / ended up in litigation (a judicial confirmation does not "
        "count: it confirms a successful agreement)"))
    days: int = strawberry.field(description="首步至末步登记间隔天数 / days from first to last step")


def _item(o: Overdue) -> OverdueItem:
    r = o.record
    return OverdueItem(
        id=strawberry.ID(encode_id(r.centre, r.native_id)), centre=Centre[r.centre.value], reference=r.reference,
        category=r.category, region_code=r.region_code, region_name=region_name(r.region_code),
        centre_status=r.centre_status, received_at=r.received_at, deadline_kind=o.deadline.rule.kind,
        due_at=o.due, days_overdue=o.days_overdue, statute=o.deadline.rule.statute,
        statute_en=o.deadline.rule.statute_en, day_count=day_count(o.deadline.rule).value,
        extension_days=o.deadline.extension_days)


def _litigated(r: MatterRecord) -> bool:
    """A court case other than the judicial confirmation (民特) of a mediation agreement."""
    return r.centre is DomainCentre.LITIGATION and not any(
        link.relation is LinkRelation.CONFIRMS for link in r.links)


def _step(r: MatterRecord) -> EscalationStep:
    return EscalationStep(
        id=strawberry.ID(encode_id(r.centre, r.native_id)), centre=Centre[r.centre.value], reference=r.reference,
        category=r.category, region_code=r.region_code, status=MatterStatus[r.status.name],
        centre_status=r.centre_status, received_at=r.received_at)


async def _chain(ctx: RequestContext, root: MatterRecord) -> list[MatterRecord]:
    chain = [root]
    while len(chain) < 4:
        nxt = [link for link in chain[-1].links if link.relation in _FOLLOW]
        if not nxt:
            break
        record = await ctx.loaders.matter(nxt[0].centre, nxt[0].native_id)
        if record is None or not ctx.principal.in_jurisdiction(record.region_code):
            break
        chain.append(record)
    return chain


def _is_root(r: MatterRecord) -> bool:
    """Where a chain starts: a record that leads on and was not itself referred."""
    return any(link.relation in _FOLLOW for link in r.links) \
        and not any(link.relation is LinkRelation.REFERRED_FROM for link in r.links)


async def _live_chains(ctx: RequestContext, prefix: str, span: tuple[dt.datetime, dt.datetime],
                       path: list[str | int]) -> list[list[MatterRecord]]:
    query = ListQuery(region_prefixes=(prefix,), received_from=span[0], received_to=span[1])
    roots: list[MatterRecord] = []
    for centre in (DomainCentre.GOVERNANCE, DomainCentre.MEDIATION):
        try:
            records = await region_records(ctx, centre, query)
        except CentreError as exc:
            report(ctx, exc, path)
            continue
        roots += [r for r in records if _is_root(r)]
    try:
        return list(await asyncio.gather(*(_chain(ctx, r) for r in roots)))
    except CentreError as exc:
        report(ctx, exc, path)
        return []


@strawberry.type
class OverdueQuery:
    @strawberry.field(
        description=(
            "超期事项清单：未办结且有任一期限未按期完成（信访15日受理/60日办结、法援7日决定/3日指派、调解一个月、"
            "法院审限、网格派遣时限），与 Matter.overdue 同一规则，按超期天数倒序 / open matters with a missed "
            "deadline (the same rule as Matter.overdue), most overdue first"),
        extensions=[requires_scopes(["stats:read"])],
    )
    async def overdue(self, info: strawberry.Info, region_code: str,
                      as_of: dt.datetime | None = None) -> list[OverdueItem]:
        ctx: RequestContext = info.context
        prefix = check_region(ctx, region_code)
        when = (as_of or ctx.now).astimezone(CST)
        if ctx.projection is not None:  # the region prefix is inside the store's query
            found = await projected_overdue(ctx.projection, prefix, when)
            found.sort(key=lambda o: (-o.days_overdue, o.record.centre.value, o.record.native_id))
            return [_item(o) for o in found]
        path = info.path.as_list()
        centres = [c for c in (DomainCentre.PETITIONS, DomainCentre.LEGAL_SERVICES, DomainCentre.MEDIATION,
                               DomainCentre.LITIGATION, DomainCentre.GOVERNANCE) if c in ctx.connectors]
        query = ListQuery(region_prefixes=(prefix,), statuses=OPEN)
        results = await asyncio.gather(*(region_records(ctx, c, query) for c in centres), return_exceptions=True)
        found = []
        for result in results:
            if isinstance(result, CentreError):
                report(ctx, result, path)
            elif isinstance(result, BaseException):
                raise result
            else:
                found += [o for r in result if (o := overdue_of(r, when)) is not None]
        found.sort(key=lambda o: (-o.days_overdue, o.record.centre.value, o.record.native_id))
        return [_item(o) for o in found]

    @strawberry.field(
        description=(
            "升级链：期内登记的网格事件与调解案件其后流向（网格→调解→信访或法院），供月研判 / escalation "
            "chains starting from grid events and mediations registered in the period"),
        extensions=[requires_scopes(["stats:read"])],
    )
    async def escalations(self, info: strawberry.Info, region_code: str,
                          from_: Annotated[dt.date, strawberry.argument(name="from")],
                          to: dt.date) -> list[EscalationChain]:
        ctx: RequestContext = info.context
        prefix = check_region(ctx, region_code)
        span = period(from_, to)
        if ctx.projection is not None:
            chains = await projected_chains(ctx.projection, prefix, span, ctx.principal.in_jurisdiction, _FOLLOW,
                                            _is_root)
        else:
            chains = await _live_chains(ctx, prefix, span, info.path.as_list())
        out = []
        for chain in chains:
            if len(chain) < 2:
                continue
            centres = {r.centre for r in chain[1:]}
            out.append(EscalationChain(
                steps=[_step(r) for r in chain], reached_petition=DomainCentre.PETITIONS in centres,
                reached_court=any(_litigated(r) for r in chain[1:]),
                days=(chain[-1].received_at - chain[0].received_at).days))
        out.sort(key=lambda c: (c.steps[0].received_at, c.steps[0].reference))
        return out

