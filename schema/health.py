"""``Query.centres``: each centre's health as the gateway sees it (no centre call).

Anyone may see whether a centre is up; the counters (requests, failures, the
last latency and error) are for operators (``ops:read``): they move with every
lookup, so a caller could otherwise tell a real person from a made-up one by
watching them (an existence oracle outside their jurisdiction).
"""

from __future__ import annotations

from enum import Enum

import strawberry
from strawberry.extensions.field_extension import FieldExtension

from connectors.health import centre_statuses

from .context import RequestContext
from .enums import Centre
from .scopes import requires_scopes

__all__ = ["BreakerState", "CentreHealth", "CentreState", "HealthQuery"]



def _ops() -> list[FieldExtension]:
    """``ops:read`` (a fresh extension per field: strawberry binds each to its field)."""
    return [requires_scopes(["ops:read"])]


@strawberry.enum(description="中心状态 / a centre's state")
class CentreState(Enum):
    UP = strawberry.enum_value("UP", description="正常 / answering")
    DEGRADED = strawberry.enum_value("DEGRADED", description="最近一次调用失败 / the last call failed")
    DOWN = strawberry.enum_value("DOWN", description="熔断中 / the breaker is open")


@strawberry.enum(description="熔断器状态 / circuit breaker state")
class BreakerState(Enum):
    CLOSED = strawberry.enum_value("closed", description="闭合：正常放行 / calls flow")
    OPEN = strawberry.enum_value("open", description="断开：暂停调用 / calls are refused for a while")
    HALF_OPEN = strawberry.enum_value("half_open", description="半开：试探恢复 / one trial call")


@strawberry.type(description="中心运行状况 / a centre's health as the gateway sees it")
class CentreHealth:
    centre: Centre
    status: CentreState = strawberry.field(description="状态 / state")
    breaker_state: BreakerState | None = strawberry.field(description="熔断器状态 / breaker state")
    last_latency_ms: float | None = strawberry.field(
        description="最近一次调用耗时（毫秒，需 ops:read） / last call latency (ops:read)", extensions=_ops())
    last_error_code: str | None = strawberry.field(
        description="最近一次错误代码（需 ops:read） / last error code (ops:read)", extensions=_ops())
    requests: int | None = strawberry.field(
        description="累计调用次数（需 ops:read） / calls since start (ops:read)", extensions=_ops())
    failures: int | None = strawberry.field(
        description="累计失败次数（需 ops:read） / failed calls since start (ops:read)", extensions=_ops())


@strawberry.type
class HealthQuery:
    @strawberry.field(description="五个中心的运行状况（不含个人信息） / health of the five centres")
    def centres(self, info: strawberry.Info) -> list[CentreHealth]:
        ctx: RequestContext = info.context
        return [
            CentreHealth(
                centre=Centre[s.centre.name], status=CentreState[s.status],
                breaker_state=BreakerState(s.breaker.value) if s.breaker else None,
                last_latency_ms=round(s.last_latency_ms, 1) if s.last_latency_ms is not None else None,
                last_error_code=s.last_error_code, requests=s.requests, failures=s.failures,
            )
            for s in centre_statuses(ctx.connectors)
        ]
