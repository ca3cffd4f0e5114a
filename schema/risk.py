"""``riskAlerts``: the governance centre's risk warnings (风险预警) for a region.

Named ``RiskAlert`` / ``riskAlerts`` rather than the centre's own ``RiskWarning`` /
``riskWarnings`` so that OneDoor composes beside the governance subgraph in a
supergraph (the two differ in shape: region, level enum, instants).

A warning is the centre's judgement that a kind of dispute is rising somewhere
(月研判); it names no person. Jurisdiction is applied in the centre's query (the
region prefix is sent), never after.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry

from connectors.errors import CentreError
from onedoor.model import Centre as DomainCentre
from onedoor.model import RiskWarningRecord

from .context import RequestContext
from .errors import centre_error
from .gather import check_region
from .region import Region, region_of
from .scopes import requires_scopes
from .validation import check_first

__all__ = ["RiskAlert", "RiskLevel", "RiskQuery"]


@strawberry.enum(description="预警等级（四级） / warning level, four grades")
class RiskLevel(Enum):
    RED = strawberry.enum_value("RED", description="红色（一级，特别严重） / red: most severe")
    ORANGE = strawberry.enum_value("ORANGE", description="橙色（二级，严重） / orange: severe")
    YELLOW = strawberry.enum_value("YELLOW", description="黄色（三级，较重） / yellow: serious")
    BLUE = strawberry.enum_value("BLUE", description="蓝色（四级，一般） / blue: general")
    OTHER = strawberry.enum_value("OTHER", description="其他 / a level this version does not name")


@strawberry.type(description="风险预警（综治中心） / a risk warning raised by the governance centre")
class RiskAlert:
    warning_no: str = strawberry.field(description="预警编号 / warning number")
    level: RiskLevel = strawberry.field(description="预警等级 / level")
    region: Region | None = strawberry.field(description="所涉区域 / the region it concerns")
    summary: str = strawberry.field(description="研判摘要 / what was judged")
    raised_at: dt.datetime = strawberry.field(description="发布时间 / when it was raised")


def _alert(record: RiskWarningRecord) -> RiskAlert:
    level = RiskLevel.__members__.get(record.level, RiskLevel.OTHER)
    return RiskAlert(warning_no=record.warning_no, level=level, region=region_of(record.region_code),
                       summary=record.summary, raised_at=record.raised_at)


@strawberry.type
class RiskQuery:
    @strawberry.field(
        description="区域内的风险预警，最新在前（综治中心） / risk warnings raised within a region, newest first",
        extensions=[requires_scopes(["governance:read"], ["stats:read"])],
    )
    async def risk_alerts(self, info: strawberry.Info, region_code: str,
                          first: int = 20) -> list[RiskAlert]:
        ctx: RequestContext = info.context
        check_first(first)
        prefix = check_region(ctx, region_code)
        connector = ctx.connectors[DomainCentre.GOVERNANCE]
        try:
            records = await connector.risk_warnings([prefix], first)  # type: ignore[attr-defined]
        except CentreError as exc:
            raise centre_error(exc) from exc
        # The centre filtered by prefix; a row outside it would be a contract breach: dropped.
        return [_alert(r) for r in records if r.region_code.startswith(prefix)][:first]
