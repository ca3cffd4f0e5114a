"""``Matter`` and its five concrete types, plus the small types they hold.

Leaves are plain attributes filled once by :mod:`schema.present` (masking and
``overdue`` already applied), so the hot path resolves with attribute reads;
only ``links`` does I/O.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from enum import Enum

import strawberry

from connectors.errors import CentreError
from onedoor import deadlines
from onedoor.model import Centre as DomainCentre
from onedoor.model import LinkRelation as DomainRelation
from onedoor.model import MatterRecord
from onedoor.periods import local_day
from policy.disclosure import Access, Kind, Protections

from .deadlines import day_count
from .disclosed import personal_data
from .enums import Centre, LinkRelation, MatterStatus, PetitionChannel, PetitionType
from .errors import centre_error
from .region import Region
from .scopes import type_scopes

__all__ = [
    "CourtCase",
    "GridEvent",
    "LegalServiceRequest",
    "Matter",
    "MatterDeadline",
    "MatterEvent",
    "MatterLink",
    "MediationCase",
    "Node",
    "Party",
    "PartyKind",
    "Petition",
]


@strawberry.enum(description="当事人类型 / kind of party")
class PartyKind(Enum):
    PERSON = strawberry.enum_value("PERSON", description="自然人 / natural person")
    ORGANISATION = strawberry.enum_value("ORGANISATION", description="单位 / organisation")


@strawberry.type(description="当事人 / a party to a matter")
class Party:
    role: str = strawberry.field(description="角色（申请人、被申请人、信访人、原告…） / role")
    kind: PartyKind = strawberry.field(description="类型 / kind")
    name: str = personal_data(
        Kind.NAME, "姓名或名称（无 pii:read 时脱敏；单位名称公开；受保护者始终脱敏） / name "
        "(masked without pii:read; organisations' names are public; protected persons always masked)")
    id_number: str | None = personal_data(
        Kind.ID_NUMBER, "公民身份号码（无 pii:read 时脱敏） / resident ID (masked without pii:read)")
    phone: str | None = personal_data(Kind.PHONE, "联系电话（脱敏规则同上） / phone (masked likewise)")
    address: str | None = personal_data(Kind.ADDRESS, "住址（脱敏规则同上） / address (masked likewise)")
    organisation_code: str | None = strawberry.field(
        description="统一社会信用代码 / unified social credit code"
    )
    protections: strawberry.Private[Protections]


@strawberry.type(description="办理过程记录 / a step in a matter's handling")
class MatterEvent:
    at: dt.datetime = strawberry.field(description="时间（Asia/Shanghai） / when")
    action: str = strawberry.field(description="环节 / what happened")
    note: str | None = strawberry.field(description="说明 / remark")


@strawberry.type(description="事项的一项期限及其依据 / one deadline of a matter, with its legal basis")
class MatterDeadline:
    kind: str = strawberry.field(description=(
        "时限类型 / which deadline: PETITION_ACCEPTANCE, PETITION_HANDLING, PETITION_REVIEW, "
        "PETITION_SECOND_REVIEW, LEGAL_AID_DECISION, LEGAL_AID_ASSIGNMENT, MEDIATION, LITIGATION, GRID_DISPATCH"))
    statute: str = strawberry.field(description="依据 / the statute, e.g. 信访工作条例 第三十四条")
    statute_en: str = strawberry.field(description="依据（英文） / the statute in English")
    day_count: str = strawberry.field(description=(
        "计日方式：CALENDAR_DAYS 按日、CALENDAR_MONTHS 按月（民法典第二百零一至二百零三条）、ELAPSED_TIME 按时计 / "
        "how the period is counted"))
    runs_from: dt.date = strawberry.field(description="起算日（当日不计入） / the day it runs from (not counted)")
    due_at: dt.datetime | None = strawberry.field(description=(
        "届满时刻；该年节假日安排未公布时为空 / when it runs out; null while that year's holiday notice is unknown"))
    extension_days: int = strawberry.field(description="已计入的经批准延长天数 / an approved extension, included")
    met_on: dt.date | None = strawberry.field(description=(
        "完成之日（受理、决定、指派、派遣、办结或复查意见）；未完成为空 / the day the act that meets it happened"))
    missed: bool | None = strawberry.field(description=(
        "是否已错过（截至现在）；无法判断时为空 / whether it was missed, as of now; null when it cannot be told"))


@strawberry.interface(description="可按全局 ID 查询的对象 / an object with a global id")
class Node:
    id: strawberry.ID = strawberry.field(description="全局唯一、稳定的不透明 ID / global opaque id")


@strawberry.type(description="跨中心关联 / a link to a matter at another centre")
class MatterLink:
    relation: LinkRelation = strawberry.field(description="关系 / relation")
    centre: Centre = strawberry.field(description="关联事项所在中心 / the linked matter's centre")
    target: strawberry.Private[Matter | CentreError]

    @strawberry.field(description="关联事项（所在中心不可用时为 null） / the linked matter")
    def matter(self) -> Matter | None:
        if isinstance(self.target, CentreError):
            raise centre_error(self.target)
        return self.target


@strawberry.interface(description="事项：五个中心的案件、申请、信访件、网格事件的统一视图 / a matter at any centre")
class Matter(Node):
    centre: Centre = strawberry.field(description="所属中心 / owning centre")
    reference: str = strawberry.field(description="中心自有编号（法院为案号） / the centre's own number")
    category: str = strawberry.field(description="类别，如 劳动争议 / category")
    title: str = strawberry.field(description="标题 / title")
    status: MatterStatus = strawberry.field(description="统一状态 / unified status")
    centre_status: str = strawberry.field(description="中心原始状态 / the centre's native status")
    region: Region = strawberry.field(description="发生地或受理地 / where it is registered")
    parties: list[Party] = strawberry.field(description="当事人 / parties")
    received_at: dt.datetime = strawberry.field(description="登记或受理时间 / received at")
    due_at: dt.datetime | None = strawberry.field(description=(
        "当前适用期限届满时刻（期间按民法典第200-204条计算：开始当日不计入，末日为法定休假日的顺延，末日至24时）；"
        "节假日安排尚未公布的年份为空 / when the governing deadline runs out (Civil Code Art.200-204: start day not "
        "counted, a last day on a rest day moves past it, the last day ends at 24:00); null when the year's holiday "
        "notice is not yet known"))
    closed_at: dt.datetime | None = strawberry.field(description="办结时间 / closed at")
    overdue: bool = strawberry.field(description=(
        "是否超期：任一期限未按期完成（各期限以其自身事件计：受理、决定、指派、派遣或办结），"
        "与 matters(filter:{overdue}) 及 overdue 清单同一规则 / whether any deadline was missed, each met by its "
        "own event (acceptance, decision, assignment, dispatch or closing); the same rule as the `overdue` filter "
        "and list"))
    events: list[MatterEvent] = strawberry.field(description="办理过程 / handling steps")
    record: strawberry.Private[MatterRecord]

    @strawberry.field(description=(
        "各项期限：起算、届满、完成与否及法律依据，供督办逐条核对 / every deadline the matter runs under: from "
        "when, until when, met or missed, and on what legal basis — so a supervisor can check each one"))
    def deadlines(self, info: strawberry.Info) -> list[MatterDeadline]:
        now = info.context.now
        return [MatterDeadline(
            kind=d.rule.kind, statute=d.rule.statute, statute_en=d.rule.statute_en,
            day_count=day_count(d.rule).value, runs_from=local_day(d.start), due_at=d.due,
            extension_days=d.extension_days, met_on=None if (done := d.done_by(now)) is None else local_day(done),
            missed=d.missed(now)) for d in deadlines.deadlines_of(self.record)]

    @strawberry.field(description="跨中心关联事项（仅含有权查看者；保密事项不经关联呈现） / linked matters "
                      "the caller may see (confidential ones are not reached through links)")
    async def links(self, info: strawberry.Info) -> list[MatterLink]:
        from .present import confidential_access, present  # present imports this module

        ctx = info.context
        wanted = [link for link in self.record.links if ctx.may_call(link.centre)]
        ctx.omitted_centres.update(
            link.centre for link in self.record.links if not ctx.may_call(link.centre)
        )
        loaded = await asyncio.gather(
            *(ctx.loaders.matter(link.centre, link.native_id) for link in wanted),
            return_exceptions=True,
        )
        out: list[MatterLink] = []
        for link, result in zip(wanted, loaded, strict=True):
            target: Matter | CentreError
            if isinstance(result, CentreError):
                target = result
            elif isinstance(result, BaseException):
                raise result
            elif (result is None or not ctx.visible(result)
                  or confidential_access(result, ctx, info.path.as_list()) is Access.HIDDEN):
                continue  # outside the caller's view behaves as if it did not exist
            else:
                target = present(result, ctx)
            out.append(
                MatterLink(
                    relation=LinkRelation[link.relation.name],
                    centre=Centre[link.centre.name],
                    target=target,
                )
            )
        return out


@strawberry.type(
    description="矛调案件 / a mediation case (矛盾纠纷调解中心)",
    directives=type_scopes("mediation:read"),
)
class MediationCase(Matter):
    mediation_type: str | None = strawberry.field(
        description="调解类型（人民调解、行政调解…） / mediation type"
    )
    source: str | None = strawberry.field(description="案件来源 / how the case arrived")
    agreement_reached: bool | None = strawberry.field(
        description="是否达成调解协议 / whether an agreement was reached"
    )
    agreement_effective_on: dt.date | None = strawberry.field(description=(
        "调解协议生效日（人民调解法第二十九、三十条：书面协议签名盖章、口头协议达成之日） / the day the agreement "
        "took effect (People's Mediation Law Art.29/30)"))
    confirmation_apply_by: dt.datetime | None = strawberry.field(description=(
        "申请司法确认的期限：协议生效后30日（人民调解法第三十三条；期间按民法典第二百零一至二百零三条） / the parties' "
        "window to apply for judicial confirmation: 30 days after the agreement took effect (Art.33)"))

    @strawberry.field(description=(
        "司法确认申请（关联的民特案件立案）是否在30日内；无关联案件或不可见时为空 / whether the linked judicial "
        "confirmation case was filed within the 30 days; null when there is none the caller may see"))
    async def confirmation_applied_in_time(self, info: strawberry.Info) -> bool | None:
        ctx = info.context
        link = next((k for k in self.record.links if k.relation is DomainRelation.CONFIRMED_BY), None)
        if link is None or not ctx.may_call(link.centre):
            return None
        try:
            court = await ctx.loaders.matter(link.centre, link.native_id)
        except CentreError:
            return None  # the answer is unknown; the case itself is reported where it is asked for
        if court is None or not ctx.visible(court):
            return None
        window = deadlines.confirmation_window(self.record, court.received_at)
        missed = None if window is None else window.missed(court.received_at)
        return None if missed is None else not missed


@strawberry.type(
    description="公共法律服务事项 / a legal-services request (12348)",
    directives=type_scopes("legal:read"),
)
class LegalServiceRequest(Matter):
    service_type: str = strawberry.field(
        description="服务类型（LEGAL_AID 法律援助、CONSULTATION 法律咨询…） / service type"
    )
    decision_due_at: dt.datetime | None = strawberry.field(
        description=("法律援助审查决定期限：申请后7日，以作出决定为准（法律援助法第43条） / legal-aid decision due: "
                     "7 days after the application, met by the decision (Legal Aid Law Art.43)")
    )
    assignment_due_at: dt.datetime | None = strawberry.field(
        description=("指派律师期限：决定给予援助后3日（法律援助法第43条）；未批准时为空 / lawyer assignment due: "
                     "3 days after the grant (Legal Aid Law Art.43); null until granted")
    )


@strawberry.type(
    description="信访件 / a petition (信访工作条例)",
    directives=type_scopes("petitions:read"),
)
class Petition(Matter):
    channel: PetitionChannel | None = strawberry.field(description="信访形式 / channel")
    petition_type: PetitionType | None = strawberry.field(description="类别 / petition type")
    acceptance_due_at: dt.datetime | None = strawberry.field(
        description="转送交办期限：登记后15日（条例第22条） / accept-or-forward deadline"
    )
    handling_due_at: dt.datetime | None = strawberry.field(
        description=("办理期限：受理后60日，经批准延长的含延长期（条例第34条） / handling deadline: 60 days after "
                     "acceptance, including an approved extension (Art.34)")
    )
    extension_days: int | None = strawberry.field(
        description="经批准的延长办理天数（条例第34条，不超过30日），无则为0 / approved extension, days (≤ 30)"
    )
    review_request_by: dt.datetime | None = strawberry.field(description=(
        "请求复查的期限：收到处理意见后30日（条例第三十五条） / the petitioner may ask for a review until then: 30 "
        "days after the handling opinion (Art.35)"))
    review_requested_on: dt.date | None = strawberry.field(description="复查申请日 / review (复查) requested on")
    review_due_at: dt.datetime | None = strawberry.field(description=(
        "复查意见期限：收到复查请求后30日（条例第三十五条） / the review opinion is due 30 days after the request "
        "(Art.35)"))
    review_decided_on: dt.date | None = strawberry.field(description="复查意见日 / review opinion given on")
    second_review_request_by: dt.datetime | None = strawberry.field(description=(
        "请求复核的期限：收到复查意见后30日（条例第三十六条） / a second review may be asked for until then (Art.36)"))
    second_review_requested_on: dt.date | None = strawberry.field(
        description="复核申请日 / second review (复核) requested on")
    second_review_due_at: dt.datetime | None = strawberry.field(description=(
        "复核意见期限：收到复核请求后30日（条例第三十六条） / the second review opinion is due 30 days after the "
        "request (Art.36)"))
    second_review_decided_on: dt.date | None = strawberry.field(
        description="复核意见日 / second review opinion given on")


@strawberry.type(
    description="法院案件 / a court case (诉讼服务中心)",
    directives=type_scopes("litigation:read"),
)
class CourtCase(Matter):
    case_number: str = strawberry.field(description="案号，如（2024）青2301民初12号 / case number")
    court: str | None = strawberry.field(description="法院 / court")
    procedure: str | None = strawberry.field(
        description="程序（一审、二审、执行、诉前调解、司法确认） / procedure"
    )


@strawberry.type(
    description="网格事件 / a grid event (综治中心)",
    directives=type_scopes("governance:read"),
)
class GridEvent(Matter):
    grid_code: str | None = strawberry.field(description="网格编码 / grid code")
    event_type: str | None = strawberry.field(description="事件类型 / event type")
    reporter: str | None = personal_data(
        Kind.NAME, "上报网格员（无 pii:read 时脱敏） / reporting grid worker (masked without pii:read)")


MATTER_TYPES: dict[DomainCentre, type[Matter]] = {
    DomainCentre.MEDIATION: MediationCase,
    DomainCentre.LEGAL_SERVICES: LegalServiceRequest,
    DomainCentre.PETITIONS: Petition,
    DomainCentre.LITIGATION: CourtCase,
    DomainCentre.GOVERNANCE: GridEvent,
}

