"""``Query.centres``: each centre's health as the gateway sees it (no centre call)."""

from __future__ import annotations

import strawberry

from connectors.health import centre_statuses

from .context import RequestContext
from .enums import Centre

__all__ = ["CentreHealth", "HealthQuery"]


@strawberry.type(description="中心运行状况 / a centre's health as the gateway sees it")
class CentreHealth:
    centre: Centre
    status: str = strawberry.field(
        description="UP 正常 / DEGRADED 最近一次调用失败 / DOWN 熔断中 (breaker open)")
    breaker_state: str | None = strawberry.field(description="熔断器状态 closed/open/half_open")
    last_latency_ms: float | None = strawberry.field(description="最近一次调用耗时（毫秒） / last call latency")
    last_error_code: str | None = strawberry.field(description="最近一次错误代码 / last error code")
    requests: int = strawberry.field(description="累计调用次数 / calls since start")
    failures: int = strawberry.field(description="累计失败次数 / failed calls since start")


@strawberry.type
class HealthQuery:
    @strawberry.field(description="五个中心的运行状况（不含个人信息） / health of the five centres")
    def centres(self, info: strawberry.Info) -> list[CentreHealth]:
        ctx: RequestContext = info.context
        return [
            CentreHealth(
                centre=Centre[s.centre.name], status=s.status,
                breaker_state=s.breaker.value if s.breaker else None,
                last_latency_ms=round(s.last_latency_ms, 1) if s.last_latency_ms is not None else None,
                last_error_code=s.last_error_code, requests=s.requests, failures=s.failures,
            )
            for s in centre_statuses(ctx.connectors)
        ]
