"""``statistics``: the governance centre's KPIs by centre, category, region and month.

Counts only — never a name, ID or matter — and only for a region inside the
caller's jurisdiction (``stats:read``; see :mod:`schema.gather`). Definitions
are in the descriptions below, which the SDL and the reference carry.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated

import strawberry

from onedoor.model import CST
from onedoor.model import Centre as DomainCentre

from .context import RequestContext
from .enums import Centre
from .gather import check_region, gather_cells, period, region_name
from .kpi import Figures, rollup
from .overdue import OverdueQuery
from .projected import projected_cells
from .scopes import requires_scopes

__all__ = ["CentreFreshness", "Statistics", "StatisticsDimension", "StatisticsFigures", "StatisticsQuery",
           "figures_of"]


@strawberry.enum(description="统计分组维度 / a dimension to group statistics by")
class StatisticsDimension(Enum):
    CENTRE = strawberry.enum_value("centre", description="按中心 / by centre")
    CATEGORY = strawberry.enum_value("category", description="按纠纷类别 / by dispute category")
    REGION = strawberry.enum_value("region", description="按下一级区划 / by the next region level down")
    MONTH = strawberry.enum_value("month", description="按登记月份（北京时间） / by month of registration (CST)")


@strawberry.enum(description="统计口径来源 / where a centre's figures were computed")
class StatisticsSource(Enum):
    PUSH_DOWN = strawberry.enum_value("PUSH_DOWN", description="中心汇总接口 / the centre's own summary endpoint")
    GATEWAY = strawberry.enum_value("GATEWAY", description="网关分页计算 / paged and counted in the gateway")
    PROJECTION = strawberry.enum_value("PROJECTION", description=(
        "网关分析副本（按各中心水位） / the gateway's analytic projection, as fresh as the centre's watermark"))


def _rate(num: int, den: int) -> float | None:
    return None if den == 0 else round(num / den, 4)


@strawberry.type(description=(
    "一组统计数字（本期登记的事项队列，截至查询时） / the figures of one group: the cohort of matters "
    "registered in the period, as they stand now. 比率分母为0时为null / a rate is null when its denominator is 0"))
class StatisticsFigures:
    registered: int = strawberry.field(description=(
        "登记数：期内登记（上报、立案、申请）的事项（来源：DOMAIN.md 关键绩效指标） / matters registered in the "
        "period (source: DOMAIN.md, key performance indicators)"))
    accepted: int = strawberry.field(description=(
        "受理数：已受理且未被拒绝（矛调登记即受理；法援已批准；信访已受理、转送或交办；法院已受理；网格已立案） / "
        "accepted and not refused (mediation: on registration; legal aid: approved; petitions: accepted, "
        "forwarded or assigned; court: accepted; grid: opened; source: DOMAIN.md, 信访工作条例 Art.22)"))
    forwarded: int = strawberry.field(description=(
        "转送数：信访事项转送有权处理的机关（条例第二十二条） / petitions forwarded to the competent body (Art.22)"))
    transferred: int = strawberry.field(description=(
        "流转数：矛调案件分类流转至其他部门（状态 TRANSFERRED） / mediation cases routed on to another body "
        "(分类流转, status TRANSFERRED)"))
    transfer_base: int = strawberry.field(description=(
        "转交办率分母：信访中心与矛调中心的登记数（记录转交办的中心） / the transfer rates' denominator: matters "
        "registered at PETITIONS and MEDIATION, the centres that record transfers"))
    assigned: int = strawberry.field(description=(
        "交办数：信访事项交由下级机关办理（条例第二十二条） / petitions assigned to a lower body (Art.22)"))
    closed: int = strawberry.field(description=(
        "办结数：已受理且已办结（含终止）（来源：DOMAIN.md） / accepted and concluded (incl. terminated; "
        "source: DOMAIN.md)"))
    closed_on_time: int = strawberry.field(description=(
        "按期办结数：办结且未错过任何期限，各期限以其自身事件计（信访条例第二十二条15日受理、第三十四条60日办结"
        "含经批准的延期；法律援助法第四十三条7日决定、3日指派；人民调解工作若干规定第三十四条一个月；法院审限；"
        "网格派遣时限），期间按民法典第二百零一至二百零三条计算 / concluded without missing any deadline, each met "
        "by its own event (Letters and Visits Regulations Art.22 15-day acceptance, Art.34 60-day handling incl. "
        "an approved extension; Legal Aid Law Art.43 7-day decision and 3-day assignment; People's Mediation "
        "Provisions Art.34 one month; the court's time limit; the grid dispatch limit), periods counted per "
        "Civil Code Art.201-203"))
    overdue_open: int = strawberry.field(description=(
        "超期未结数：截至 asOf 尚未办结且已错过期限（与 overdue 清单同一规则） / still open at asOf with a "
        "deadline already missed (the rule of the `overdue` list)"))
    mediations: int = strawberry.field(description=(
        "调解受理数：矛调中心受理的调解及未关联矛调案件的法院诉前调解；诉前调案件与其关联的矛调案件为同一纠纷，"
        "只计一次（计于矛调中心） / mediations taken on: the mediation centre's cases plus court pre-litigation "
        "mediations not linked to one of them — a 诉前调 case and the mediation case it is linked to are one "
        "dispute, counted once (at the mediation centre)"))
    agreements: int = strawberry.field(description=(
        "调解成功数：达成调解协议（案结事了；诉前调解以调解结案；人民调解法第二十八条至第三十一条） / agreements "
        "reached (People's Mediation Law Art.28-31)"))
    escalated: int = strawberry.field(description=(
        "纠纷转信访数：调解或网格事件其后转为信访（来源：DOMAIN.md，各地目标为零） / disputes (mediation, grid) "
        "that escalated to a petition (source: DOMAIN.md; the seeds aim at zero)"))
    repeat_petitions: int = strawberry.field(description=(
        "重复信访数：同一信访人就同一类别在本期内再次信访（来源：DOMAIN.md） / a petitioner petitioning again on "
        "the same category within the period (source: DOMAIN.md)"))

    @strawberry.field(description=(
        "受理率 = 受理数 ÷ 登记数（来源：DOMAIN.md） / acceptance rate = accepted ÷ registered (source: DOMAIN.md)"))
    def acceptance_rate(self) -> float | None:
        return _rate(self.accepted, self.registered)

    @strawberry.field(description=(
        "转交办率 = (转送 + 交办 + 流转) ÷ 转交办率分母（信访与矛调登记数）；转送率、交办率、流转率之和 "
        "（DOMAIN.md；信访工作条例第二十二条） / transfer rate = (forwarded + assigned + transferred) ÷ transferBase "
        "(registered at PETITIONS and MEDIATION); the sum of the forwarding, assignment and routing rates"))
    def transfer_rate(self) -> float | None:
        return _rate(self.forwarded + self.assigned + self.transferred, self.transfer_base)

    @strawberry.field(description=(
        "转送率 = 转送 ÷ 转交办率分母（信访工作条例第二十二条） / forwarding rate = forwarded ÷ transferBase (Art.22)"))
    def forwarding_rate(self) -> float | None:
        return _rate(self.forwarded, self.transfer_base)

    @strawberry.field(description=(
        "交办率 = 交办 ÷ 转交办率分母（信访工作条例第二十二条） / assignment rate = assigned ÷ transferBase (Art.22)"))
    def assignment_rate(self) -> float | None:
        return _rate(self.assigned, self.transfer_base)

    @strawberry.field(description=(
        "流转率 = 流转 ÷ 转交办率分母 / routing rate = transferred ÷ transferBase"))
    def routing_rate(self) -> float | None:
        return _rate(self.transferred, self.transfer_base)

    @strawberry.field(description=(
        "办结率 = 办结数 ÷ 受理数（来源：DOMAIN.md） / closure rate = closed ÷ accepted (source: DOMAIN.md)"))
    def closure_rate(self) -> float | None:
        return _rate(self.closed, self.accepted)

    @strawberry.field(description=(
        "按期办结率 = 按期办结数 ÷ (办结数 + 超期未结数)：分母为期限已届满或已办结的事项，办结与否；"
        "只除以办结数会奖励把超期事项压着不结（DOMAIN.md） / on-time closure rate = closedOnTime ÷ (closed + "
        "overdueOpen): the denominator is every matter concluded or past its deadline, closed or not — dividing "
        "by closed matters alone would reward leaving late cases open"))
    def on_time_closure_rate(self) -> float | None:
        return _rate(self.closed_on_time, self.closed + self.overdue_open)

    @strawberry.field(description=(
        "调解成功率 = 调解成功数 ÷ 调解受理数，一个纠纷一次调解（来源：DOMAIN.md） / mediation success rate = "
        "agreements ÷ mediations, one dispute one mediation (source: DOMAIN.md)"))
    def mediation_success_rate(self) -> float | None:
        return _rate(self.agreements, self.mediations)


def figures_of(f: Figures) -> StatisticsFigures:
    return StatisticsFigures(
        registered=f.registered, accepted=f.accepted, forwarded=f.forwarded, assigned=f.assigned,
        closed=f.closed, closed_on_time=f.closed_on_time, mediations=f.mediations, agreements=f.agreements,
        escalated=f.escalated, repeat_petitions=f.repeat_petitions, overdue_open=f.overdue_open,
        transferred=f.transferred, transfer_base=f.transfer_base)


@strawberry.type(description="一个分组 / one group; dimensions not grouped by are null")
class StatisticsGroup:
    centre: Centre | None = strawberry.field(description="中心 / centre")
    category: str | None = strawberry.field(description="纠纷类别 / dispute category")
    region_code: str | None = strawberry.field(description="下一级区划代码 / the child region's code")
    region_name: str | None = strawberry.field(description="下一级区划名称 / the child region's name")
    month: str | None = strawberry.field(description="登记月份 YYYY-MM / month of registration")
    figures: StatisticsFigures = strawberry.field(description="统计数字 / the figures")


@strawberry.type(description="某中心数字的来源 / how one centre's figures were obtained")
class CentreSource:
    centre: Centre = strawberry.field(description="中心 / centre")
    source: StatisticsSource = strawberry.field(description="计算位置 / where computed")
    records: int = strawberry.field(description="计入的事项数 / matters counted")


@strawberry.type(description="某中心数字的时效 / how fresh one centre's figures are")
class CentreFreshness:
    centre: Centre = strawberry.field(description="中心 / centre")
    as_of: dt.datetime | None = strawberry.field(description=(
        "截至时间：此前该中心的所有变更均已计入；null 表示尚未取得 / every change the centre made before this "
        "instant is counted; null: not loaded yet"))
    feed: str | None = strawberry.field(description=(
        "副本的更新方式：PUSH 回调、CURSOR 增量游标、EXPORT 夜间导出；实时查询为 null / how the projection is "
        "fed from this centre (PUSH callbacks, CURSOR changed-since, EXPORT nightly dump); null when read live"))


@strawberry.type(description="统计结果（不含任何个人信息） / statistics (no personal data)")
class Statistics:
    region_code: str = strawberry.field(description="统计区域 / the region")
    region_name: str = strawberry.field(description="区域名称 / its name")
    from_: dt.date = strawberry.field(name="from", description="起始日期（含） / first day")
    to: dt.date = strawberry.field(description="截止日期（含） / last day")
    as_of: dt.datetime = strawberry.field(description="数据截至时间 / the moment the figures describe")
    totals: StatisticsFigures = strawberry.field(description="合计 / totals")
    groups: list[StatisticsGroup] = strawberry.field(description="分组（按分组键排序） / groups, sorted by key")
    sources: list[CentreSource] = strawberry.field(description="各中心口径 / per-centre sources")
    missing_centres: list[Centre] = strawberry.field(description=(
        "未能取得数据的中心（数字不含这些中心） / centres that failed: the figures exclude them"))
    freshness: list[CentreFreshness] = strawberry.field(description=(
        "各中心数据截至时间（asOf 取其中最早者） / each centre's as-of instant (asOf is the earliest)"))


@strawberry.type
class StatisticsQuery(OverdueQuery):
    """The dispatcher's root fields: ``statistics`` here, ``overdue`` and ``escalations`` inherited."""

    @strawberry.field(
        description=(
            "跨中心统计（综治中心“总调度”） / cross-centre statistics for the governance centre. "
            "区域须在本人管辖范围内，否则拒绝 / the region must lie inside the caller's jurisdiction, else FORBIDDEN"),
        extensions=[requires_scopes(["stats:read"])],
    )
    async def statistics(
        self,
        info: strawberry.Info,
        region_code: str,
        from_: Annotated[dt.date, strawberry.argument(name="from")],
        to: dt.date,
        group_by: list[StatisticsDimension] | None = None,
        push_down: Annotated[bool, strawberry.argument(description=(
            "false：即使中心提供汇总接口也在网关计算（用于核对） / false: compute in the gateway even "
            "where a centre offers a summary (for verification)"))] = True,
    ) -> Statistics:
        ctx: RequestContext = info.context
        prefix = check_region(ctx, region_code)
        span = period(from_, to)
        order = list(DomainCentre)
        now = ctx.now.astimezone(CST)
        if ctx.projection is not None:  # jurisdiction is the prefix, inside the store's query
            projected = await projected_cells(ctx.projection, prefix, span, now)
            cells = projected.cells
            loaded = {c: m for c, m in projected.marks.items() if m.as_of is not None}
            missing = [c for c in order if c not in loaded]
            sources = [CentreSource(centre=Centre[c.value], source=StatisticsSource.PROJECTION,
                                    records=projected.records.get(c, 0)) for c in order if c in loaded]
            freshness = [CentreFreshness(centre=Centre[c.value], feed=m.style,
                                         as_of=m.as_of.astimezone(CST) if m.as_of else None)
                         for c in order if (m := projected.marks.get(c)) is not None]
            marks = [m.as_of for m in loaded.values() if m.as_of is not None]
            as_of = min(marks).astimezone(CST) if marks else now
        else:
            gathered = await gather_cells(ctx, prefix, span, push_down, info.path.as_list())
            cells, missing, as_of = gathered.cells, gathered.missing, now
            sources = [CentreSource(centre=Centre[c.value], records=n,
                                    source=StatisticsSource.PUSH_DOWN if pushed else StatisticsSource.GATEWAY)
                       for c, (pushed, n) in sorted(gathered.sources.items(), key=lambda i: order.index(i[0]))]
            freshness = [CentreFreshness(centre=s.centre, as_of=now, feed=None) for s in sources]
        dims = [str(d.value) for d in group_by or []]
        total = Figures()
        for figures in cells.values():
            total.add(figures)
        groups = [
            StatisticsGroup(
                centre=Centre[key["centre"]] if "centre" in key else None, category=key.get("category"),
                region_code=key.get("region"), region_name=region_name(key["region"]) if "region" in key else None,
                month=key.get("month"), figures=figures_of(figures))
            for key, figures in rollup(cells, dims)
        ] if dims else []
        code = prefix.ljust(6, "0") if len(prefix) <= 6 else prefix.ljust(12, "0")
        return Statistics(
            region_code=code, region_name=region_name(code), from_=from_, to=to,
            as_of=as_of, totals=figures_of(total), groups=groups, sources=sources,
            missing_centres=[Centre[c.value] for c in missing], freshness=freshness,
        )
