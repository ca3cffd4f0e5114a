"""Filing at one window (一次办成): ``submitMatter``, ``transferMatter`` and ``track``.

Resolvers only translate: validation is :mod:`schema.filing_input`, routing,
exactly-once and the audit record are :class:`services.filing.FilingService`.
Every refused attempt (bad input, wrong person, out of jurisdiction) is audited
with its reason, as the issue asks of "every failed attempt".

A transfer links both ends: the new matter carries ``TRANSFERRED_FROM`` from
birth, the source matter gets ``TRANSFERRED_TO`` at its own centre. When the
source centre cannot take that write, the new matter already exists, so the
payload is returned as usual *and* the response carries one error at the
mutation's path (the centre's code, e.g. ``CENTRE_UNAVAILABLE``, with
``pending: "SOURCE_LINK"``); the gateway writes the link later by itself and a
retry of the same transfer returns the same receipt.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry
from graphql import GraphQLError

from connectors.errors import CentreError
from onedoor.model import Centre as DomainCentre
from onedoor.model import LinkRecord, LinkRelation, PartyKind
from services.audit import AuditEntry, Decision
from services.filing import Filing, FilingError, FilingService, refused
from services.triage import Decision as Route

from .context import RequestContext
from .enums import Centre
from .errors import centre_error, forbidden
from .filing_input import SubmitMatterInput, to_filing
from .matter import Matter
from .present import present
from .scopes import READ_ANY, requires_scopes
from .validation import global_id_arg

__all__ = ["FilingQuery", "Mutation", "StatutoryDeadline", "SubmitMatterPayload", "TriageRule"]

WRITE = (("matters:write",), ("citizen:self",))
TRANSFER_DESCRIPTION = (
    "转办、交办至另一中心，两端互相关联（原中心暂不可用时仍返回新事项，并以 pending: SOURCE_LINK 的错误说明"
    "关联稍后补记） / transfer a matter to another centre, linked at both ends (if the source centre is "
    "down the new matter is still returned, with an error marked pending: SOURCE_LINK; the link is added later)")


@strawberry.enum(description="分流依据 / what a triage rule looks at")
class TriageBasis(Enum):
    MATTER = strawberry.enum_value("MATTER", description="属事：按事项性质 / by the kind of matter")
    PLACE = strawberry.enum_value("PLACE", description="属地：按发生地 / by place")
    CAUSE = strawberry.enum_value("CAUSE", description="归因：按成因与对象 / by cause and against whom")


@strawberry.type(description="分流规则 / the triage rule that routed a matter")
class TriageRule:
    id: str = strawberry.field(description="规则编号 / rule id")
    basis: TriageBasis = strawberry.field(description="依据 / basis")
    reason: str = strawberry.field(description="理由 / why")
    version: str = strawberry.field(description="规则版本 / rules file version")


@strawberry.type(description="法定期限 / a statutory deadline")
class StatutoryDeadline:
    name: str = strawberry.field(description="事项 / what must happen")
    law: str = strawberry.field(description="法律依据 / legal basis")
    due_at: dt.datetime | None = strawberry.field(description=(
        "期限届满时刻（民法典第二百零一至二百零三条计算：开始当日不计入，末日逢法定休假日顺延，至24时止）；该年节假日"
        "安排尚未公布时为空 / when it runs out (Civil Code Art.201-203: start day not counted, a last day on a rest "
        "day moves past it, ends at 24:00); null while that year's holiday notice is not yet known"))


@strawberry.type(description="提交结果 / the result of a filing")
class SubmitMatterPayload:
    receipt: str = strawberry.field(description="回执号，任一窗口和门户均可查询 / receipt number, trackable everywhere")
    centre: Centre = strawberry.field(description="承办中心 / the centre that owns it")
    matter: Matter | None = strawberry.field(description="已建立的事项 / the created matter")
    rule: TriageRule = strawberry.field(description="分流规则 / triage rule")
    deadlines: list[StatutoryDeadline] = strawberry.field(description="法定期限 / statutory deadlines")
    replayed: bool = strawberry.field(description="重复提交，返回首次结果 / a retry: the first result again")


def _service(ctx: RequestContext) -> FilingService:
    if ctx.filing is None:
        raise GraphQLError("受理服务未启用 / filing is not available",
                           extensions={"code": "FILING_UNAVAILABLE"})
    return ctx.filing


async def _refused(ctx: RequestContext, operation: str, reason: str, field: str | None) -> None:
    """A failed attempt still leaves its audit record (who tried what, and why it failed)."""
    if ctx.audit is None:
        return
    await ctx.audit.append(AuditEntry(
        sub=ctx.principal.sub, client_id=ctx.principal.client_id, operation_name=operation,
        document_hash=None, purpose=ctx.principal.purpose or ctx.purpose,
        decisions=(Decision("deny", reason, field=field),), outcome="rejected",
        request_id=ctx.request_id))


def _check_filer(ctx: RequestContext, filing: Filing) -> None:
    p = ctx.principal
    if p.has("citizen:self"):
        if filing.applicant.id_number != p.citizen_id:
            raise forbidden("群众只能为本人提交 / a citizen may file only for themself")
    elif not p.in_jurisdiction(filing.region_code):
        raise forbidden("该地区不在您的管辖范围 / the region is outside your jurisdiction")


def _payload(ctx: RequestContext, filed: object) -> SubmitMatterPayload:
    from services.filing import Filed

    assert isinstance(filed, Filed)
    route = filed.route
    return SubmitMatterPayload(
        receipt=filed.submission.receipt, centre=Centre[filed.submission.centre],
        matter=present(filed.record, ctx) if filed.record else None,
        rule=TriageRule(id=filed.submission.rule_id, basis=TriageBasis[route.basis],
                        reason=route.reason, version=route.version),
        deadlines=[StatutoryDeadline(name=d.name, law=d.law, due_at=d.due_at)
                   for d in filed.deadlines],
        replayed=filed.replayed)


async def _file(ctx: RequestContext, operation: str, filing: Filing, key: str,
                route: Route | None = None, source: str | None = None,
                path: list[str | int] | None = None) -> SubmitMatterPayload:
    service = _service(ctx)
    try:
        filed = await service.submit(ctx.principal, filing, key, request_id=ctx.request_id,
                                     route=route, source=source)
    except FilingError as exc:
        await _refused(ctx, operation, exc.code.lower(), None)
        raise GraphQLError(exc.message, extensions={"code": exc.code}) from None
    except CentreError as exc:
        raise centre_error(exc) from exc
    if (missing := filed.link_error) is not None and refused(missing):
        ctx.partial_errors.append(GraphQLError(
            "已转办；原中心拒绝记录转办关联 / transferred; the source centre refused to record the link",
            path=path, original_error=missing,
            extensions={"code": missing.code, "centre": missing.centre.value}))
    elif missing is not None:
        ctx.partial_errors.append(GraphQLError(
            "已转办；原中心暂未记录转办关联，系统将自动补记 / transferred; the source centre has not "
            "recorded the link yet, it will be added automatically",
            path=path, original_error=missing,
            extensions={"code": missing.code, "centre": missing.centre.value, "pending": "SOURCE_LINK"}))
    return _payload(ctx, filed)


@strawberry.type(description="变更 / mutations")
class Mutation:
    @strawberry.mutation(description="一次提交、自动分流、一张回执 / file a matter once, routed to the right centre",
                         extensions=[requires_scopes(*WRITE)])
    async def submit_matter(self, info: strawberry.Info, input: SubmitMatterInput,
                            idempotency_key: str) -> SubmitMatterPayload:
        ctx: RequestContext = info.context
        service = _service(ctx)
        try:
            if not 8 <= len(idempotency_key) <= 100:
                raise GraphQLError("幂等键长度须为8到100 / idempotencyKey must be 8 to 100 characters",
                                   extensions={"code": "BAD_USER_INPUT", "field": "idempotencyKey",
                                               "reason": "length"})
            filing = to_filing(input, service.rules.current().categories)
            _check_filer(ctx, filing)
        except GraphQLError as exc:
            ext = exc.extensions or {}
            await _refused(ctx, "submitMatter", f"{str(ext.get('code', 'error')).lower()}:"
                           f"{ext.get('reason', '-')}", ext.get("field"))
            raise
        return await _file(ctx, "submitMatter", filing, idempotency_key)

    @strawberry.mutation(description=TRANSFER_DESCRIPTION,
                         extensions=[requires_scopes(["matters:write"])])
    async def transfer_matter(self, info: strawberry.Info, id: strawberry.ID, to_centre: Centre,
                              reason: str) -> SubmitMatterPayload:
        ctx: RequestContext = info.context
        service = _service(ctx)
        centre, native_id = global_id_arg(id)
        target = DomainCentre[to_centre.name]
        record = await ctx.loaders.matter(centre, native_id) if ctx.can_read(centre) else None
        applicant = next((p for p in record.parties if p.id_number and p.kind is PartyKind.PERSON),
                         None) if record else None
        problem = (None if record and ctx.principal.in_jurisdiction(record.region_code) and
                   not ctx.principal.has("citizen:self") else "not_found")
        problem = problem or ("same_centre" if target is centre else None)
        problem = problem or ("no_reason" if not 2 <= len(reason.strip()) <= 500 else None)
        problem = problem or ("no_applicant" if applicant is None else None)
        if problem is not None or record is None or applicant is None:
            await _refused(ctx, "transferMatter", f"invalid:{problem}", "id")
            raise GraphQLError("无法转办该事项 / this matter cannot be transferred",
                               extensions={"code": "BAD_USER_INPUT", "reason": problem})
        filing = Filing(
            applicant=applicant, others=tuple(p for p in record.parties if p is not applicant),
            category=record.category, region_code=record.region_code,
            title=f"转办：{record.title}"[:100],
            description=f"{reason.strip()}（原{centre.value}编号 {record.reference}）",
            links=(LinkRecord(LinkRelation.TRANSFERRED_FROM, centre, native_id),))
        route = Route(target, "TRANSFER", "MATTER", f"转办 / transferred: {reason.strip()}",
                      service.rules.current().version, None)
        return await _file(ctx, "transferMatter", filing, f"transfer:{id}:{target.value}",
                           route=route, source=str(id), path=info.path.as_list())


@strawberry.type
class FilingQuery:
    @strawberry.field(description="按回执号查询办理进度 / track a filing by its receipt",
                      extensions=[requires_scopes(*WRITE, *READ_ANY)])
    async def track(self, info: strawberry.Info, receipt: str) -> Matter | None:
        ctx: RequestContext = info.context
        found = await _service(ctx).track(receipt.strip()[:40])
        if found is None:
            return None
        stored, record = found
        p = ctx.principal
        mine = stored.owner == p.sub or (p.citizen_id is not None and stored.applicant_id == p.citizen_id)
        clerk = p.has("matters:write") and not p.has("citizen:self") and p.in_jurisdiction(stored.region_code)
        if not (mine or clerk) or record is None:
            return None  # someone else's receipt behaves as unknown
        return present(record, ctx)
