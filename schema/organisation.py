"""``organisation(creditCode:)``: one employer's or company's matters across centres.

No centre searches by organisation, so the analytic projection's index of party
credit codes (:mod:`services.projection`, with the caller's jurisdiction inside
the query) says which matters name it; each is then read from its centre through
the request's DataLoaders and shown exactly as on every other path: a centre the
caller may not read is not called (``omittedCentres``), the row rule
(:meth:`RequestContext.visible`) and the confidential-record gate
(:func:`confidential_access`) decide each record, and the parties' fields
disclose themselves. A matter the centre no longer records with that
organisation (the projection lags) is left out.

An analyst (``stats:read``, no centre read scope) gets ``counts`` instead: the
organisation's matters per centre, category and status, from the projection
alone (no centre call, no personal data — the same level as ``statistics`` and
``overdue``); ``matters`` needs a centre's read scope.

Outside the caller's jurisdiction an organisation with matters and a code nobody
uses give the same answer (``null``) after the same work: the projection query is
bounded by the jurisdiction, so neither calls a centre.
"""

from __future__ import annotations

import asyncio

import strawberry
from graphql import GraphQLError

from connectors.errors import CentreError
from onedoor.identifiers import InvalidIdentifier, normalise_uscc
from onedoor.model import Centre as DomainCentre
from onedoor.model import MatterRecord, PartyKind
from onedoor.model import MatterStatus as DomainStatus
from policy.disclosure import Access, Kind, Protections
from services.projection import ProjectionStore

from .connection import MatterConnection, connection_of
from .context import RequestContext
from .disclosed import personal_data
from .enums import Centre, MatterStatus
from .errors import projection_unavailable
from .fetch import report
from .pagination import sort_records
from .present import confidential_access
from .projected import organisation_codes, projected_organisation
from .scopes import READ_ANY, requires_scopes
from .validation import check_first, credit_code_arg, cursor_arg

_READ_MATTERS = READ_ANY[:-1]  # a centre's read scope (citizen:self has `me`, not organisations)
_STATS = ("stats:read",)

__all__ = ["Organisation", "OrganisationCount", "OrganisationQuery"]

# Matters read for one organisation (each is a centre read): a larger answer is cut
# here and says so (ORGANISATION_TOO_LARGE) rather than fanning out without bound.
MAX_MATTERS = 500


@strawberry.type(description="单位事项计数（不含个人信息） / a count of the organisation's matters (no personal data)")
class OrganisationCount:
    centre: Centre = strawberry.field(description="中心 / centre")
    category: str = strawberry.field(description="类别 / category")
    status: MatterStatus = strawberry.field(description="统一状态 / unified status")
    count: int = strawberry.field(description="事项数 / matters")


@strawberry.type(description=(
    "单位：按统一社会信用代码汇集其在各中心的事项（如欠薪纠纷中的用人单位）；单位名称与代码为公开信息 / an "
    "organisation (an employer, a company) and its matters across centres, found by its unified social credit "
    "code; an organisation's name and code are public"))
class Organisation:
    credit_code: str = strawberry.field(description=(
        "统一社会信用代码（GB 32100-2015） / unified social credit code (GB 32100-2015)"))
    # Through the disclosure rule like every name (an organisation's is public: in clear).
    name: str | None = personal_data(Kind.NAME, (
        "名称，以其最近一件事项中中心所记为准（单位名称公开） / the name as the centre of its most recent matter "
        "records it (an organisation's name is public)"))
    records: strawberry.Private[list[MatterRecord]]
    protections: strawberry.Private[Protections]
    tally: strawberry.Private[list[OrganisationCount]]

    @strawberry.field(description=(
        "辖区内该单位事项按中心、类别、状态计数，取自分析副本，不调用中心、不含个人信息（需 stats:read） / the "
        "organisation's matters inside the caller's jurisdiction counted by centre, category and status, from the "
        "analytic projection: no centre call, no personal data (stats:read)"),
        extensions=[requires_scopes(_STATS)])
    def counts(self) -> list[OrganisationCount]:
        return self.tally

    @strawberry.field(description=(
        "该单位在各中心的事项（仅含有权查看者），按受理时间倒序 / the organisation's matters at the centres the "
        "caller may read, inside the caller's jurisdiction, newest first"),
        extensions=[requires_scopes(*_READ_MATTERS)])
    def matters(
        self,
        info: strawberry.Info,
        centres: list[Centre] | None = None,
        statuses: list[MatterStatus] | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> MatterConnection:
        ctx: RequestContext = info.context
        check_first(first)
        position = cursor_arg(after)
        records = self.records
        if centres is not None:
            wanted = {DomainCentre[c.name] for c in centres}
            records = [r for r in records if r.centre in wanted]
        return connection_of(records, ctx, statuses=statuses, first=first, after=position)


def _name(record: MatterRecord, code: str) -> str | None:
    for party in record.parties:
        if party.kind is PartyKind.ORGANISATION and party.org_code:
            try:
                if normalise_uscc(party.org_code) == code:
                    return party.name
            except InvalidIdentifier:
                continue
    return None


async def _records(ctx: RequestContext, code: str, keys: list[tuple[DomainCentre, str]],
                   path: list[str | int]) -> list[MatterRecord]:
    """The organisation's matters this caller may see, read from their centres (``keys``:
    the projection's, in centres the caller may read)."""
    if len(keys) > MAX_MATTERS:
        ctx.partial_errors.append(GraphQLError(
            f"该单位事项超过{MAX_MATTERS}件，仅读取其中{MAX_MATTERS}件 / the organisation has more than {MAX_MATTERS} "
            f"matters in your jurisdiction: only {MAX_MATTERS} were read", path=path,
            extensions={"code": "ORGANISATION_TOO_LARGE", "limit": MAX_MATTERS}))
        keys = keys[:MAX_MATTERS]
    found = await asyncio.gather(*(ctx.loaders.matter(c, n) for c, n in keys), return_exceptions=True)
    failed: dict[DomainCentre, CentreError] = {}
    records = []
    for (centre, _), result in zip(keys, found, strict=True):
        if isinstance(result, CentreError):
            failed.setdefault(centre, result)  # one error per centre, not per matter of its batch
        elif isinstance(result, BaseException):
            raise result
        elif (result is not None and ctx.visible(result) and code in organisation_codes(result)
              and confidential_access(result, ctx, path) is not Access.HIDDEN):
            records.append(result)
    for exc in failed.values():
        report(ctx, exc, path)
    return sort_records(records)


async def _tally(store: ProjectionStore, code: str,
                 keys: list[tuple[DomainCentre, str]]) -> list[OrganisationCount]:
    """Counts of the organisation's matters (``keys``: under the caller's jurisdiction, every
    centre — ``stats:read`` spans centres, as for ``statistics``) from the projection's rows alone."""
    counts: dict[tuple[DomainCentre, str, DomainStatus], int] = {}
    for row in (await store.rows(keys)).values():
        if code in row.orgs:
            key = (row.centre, row.category, row.status)
            counts[key] = counts.get(key, 0) + 1
    return [OrganisationCount(centre=Centre[c.name], category=category, status=MatterStatus[s.name], count=n)
            for (c, category, s), n in sorted(counts.items(), key=lambda kv: (kv[0][0].value, kv[0][1],
                                                                                 kv[0][2].value))]


@strawberry.type
class OrganisationQuery:
    @strawberry.field(
        description=(
            "按统一社会信用代码查询单位及其在各中心的事项（如某用人单位涉及的欠薪纠纷：调解、法律援助、诉讼）。"
            "代码须通过校验位检验；无可见事项时（含管辖范围外）返回 null。依赖网关分析副本，"
            "未启用时报 PROJECTION_UNAVAILABLE / an "
            "organisation by its unified social credit code (check character verified) with its matters across centres "
            "— e.g. the wage disputes around one employer, mediated, aided and litigated; null when the caller sees "
            "none of its matters (outside the jurisdiction alike). Needs the gateway's analytic projection "
            "(PROJECTION_UNAVAILABLE without it)"),
        extensions=[requires_scopes(*_READ_MATTERS, _STATS)],
    )
    async def organisation(self, info: strawberry.Info, credit_code: str) -> Organisation | None:
        ctx: RequestContext = info.context
        code = credit_code_arg(credit_code)
        path = info.path.as_list()
        if ctx.projection is None:
            raise projection_unavailable(path=path)
        reads = any(all(s in ctx.principal.scopes for s in group) for group in _READ_MATTERS)
        stats = _STATS[0] in ctx.principal.scopes
        # The centres the caller may not read are named in omittedCentres, whatever the code
        # (so that never tells anything); one projection query serves both views.
        readable = [c for c in ctx.readable() if c in ctx.connectors] if reads else []
        keys, loading = await projected_organisation(ctx.projection, code, ctx.principal.regions,
                                                     list(DomainCentre) if stats else readable)
        ctx.partial_errors += [projection_unavailable(c, path) for c in loading]
        records = await _records(ctx, code, [k for k in keys if k[0] in readable], path) if readable else []
        tally = await _tally(ctx.projection, code, keys) if stats else []
        if not records and not tally:
            return None
        return Organisation(credit_code=code, name=_name(records[0], code) if records else None, records=records,
                            protections=Protections(public_name=True), tally=tally)
