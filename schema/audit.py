"""``auditTrail``: who accessed a citizen's data, when, why and what (``audit:read``)."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry

from connectors.errors import CentreError
from onedoor.model import CST
from services.audit import AuditRecord

from .context import RequestContext
from .errors import bad_input, centre_error
from .validation import resident_id_arg

__all__ = ["AuditOutcome", "AuditTrailPage", "audit_trail"]


@strawberry.type(description="一次准许或拒绝 / one allow or deny decision")
class AuditDecision:
    effect: str
    reason: str
    field: str | None
    centre: str | None


@strawberry.enum(description="审计结果 / what the audited operation came to")
class AuditOutcome(Enum):
    OK = strawberry.enum_value("ok", description="成功 / answered in full")
    PARTIAL = strawberry.enum_value("partial", description="部分成功（有中心失败） / answered without a failing centre")
    DENIED = strawberry.enum_value("denied", description="拒绝 / refused for want of a scope")
    REJECTED = strawberry.enum_value("rejected", description="退回 / a filing refused as invalid")
    FAILED = strawberry.enum_value("failed", description="失败 / a filing the centre refused")
    RECONCILED = strawberry.enum_value("reconciled", description="补办完成 / a filing completed later by reconcile")
    OTHER = strawberry.enum_value("other", description="其他 / an outcome this version does not name")


@strawberry.type(description="一条访问审计记录 / one audit record")
class AuditEvent:
    seq: int = strawberry.field(description="链上序号 / position in the hash chain")
    at: dt.datetime = strawberry.field(description="时间（北京时间） / when (+08:00, as matters)")
    sub: str | None = strawberry.field(description="访问者 / who (token subject)")
    client_id: str | None = strawberry.field(description="客户端 / client application")
    purpose: str | None = strawberry.field(description="用途 / declared purpose")
    operation_name: str | None = strawberry.field(description="操作名 / GraphQL operation")
    document_hash: str | None = strawberry.field(description="查询文档 SHA-256 / document hash")
    centres: list[str] = strawberry.field(description="调用的中心 / centres called")
    unmasked_fields: list[str] = strawberry.field(description="明文返回的个人信息字段 / fields shown unmasked")
    decisions: list[AuditDecision] = strawberry.field(description="准许或拒绝 / decisions")
    result_count: int = strawberry.field(description="返回事项数 / matters returned")
    outcome: AuditOutcome = strawberry.field(description="结果 / outcome")
    hash: str = strawberry.field(description="本记录哈希 / this record's chain hash")


@strawberry.type(description="审计记录分页 / a page of audit records, oldest first")
class AuditTrailPage:
    entries: list[AuditEvent]
    end_cursor: str | None
    has_next_page: bool


def _outcome(value: str) -> AuditOutcome:
    try:
        return AuditOutcome(value)
    except ValueError:  # a record written by a later version
        return AuditOutcome.OTHER


def _event(record: AuditRecord) -> AuditEvent:
    return AuditEvent(
        seq=record.seq, at=record.at.astimezone(CST), sub=record.sub, client_id=record.client_id,
        purpose=record.purpose, operation_name=record.operation_name,
        document_hash=record.document_hash, centres=list(record.centres),
        unmasked_fields=list(record.unmasked_fields),
        decisions=[AuditDecision(effect=d.effect, reason=d.reason, field=d.field, centre=d.centre)
                   for d in record.decisions],
        result_count=record.result_count, hash=record.hash,
        outcome=_outcome(record.outcome),
    )


async def audit_trail(
    ctx: RequestContext, citizen_id: str, since: dt.datetime | None, until: dt.datetime | None,
    first: int, after: str | None,
) -> AuditTrailPage:
    canonical = resident_id_arg(citizen_id, "citizenId")
    if not 1 <= first <= 500:
        raise bad_input("每页数量须在1到500之间 / `first` must be 1-500", field="first",
                        reason="range")
    try:
        resident = await ctx.loaders.resident(canonical)
    except CentreError as exc:
        raise centre_error(exc) from exc
    if ctx.audit is None or resident is None or not ctx.principal.in_jurisdiction(
        resident.region_code
    ):
        # Outside the auditor's jurisdiction a person behaves as unknown.
        return AuditTrailPage(entries=[], end_cursor=None, has_next_page=False)
    ctx.citizens_touched.add(canonical)
    try:
        records, cursor = await ctx.audit.query(canonical, since, until, first, after)
    except ValueError:
        raise bad_input("无效的分页游标 / malformed cursor", field="after", reason="format") from None
    return AuditTrailPage(entries=[_event(r) for r in records], end_cursor=cursor,
                          has_next_page=cursor is not None)
