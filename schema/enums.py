"""GraphQL enums with Chinese and English descriptions.

They mirror the domain enums in :mod:`onedoor.model` by member name, so
conversion is ``SchemaEnum[domain.name]`` — no tables to keep in sync.
"""

from __future__ import annotations

from enum import Enum

import strawberry

__all__ = ["Centre", "LinkRelation", "MatterStatus", "PetitionChannel", "PetitionType", "RegionLevel"]


@strawberry.enum(description="五个中心 / the five service centres")
class Centre(Enum):
    MEDIATION = strawberry.enum_value(
        "MEDIATION", description="矛盾纠纷调解中心（矛调中心） / dispute mediation centre"
    )
    LEGAL_SERVICES = strawberry.enum_value(
        "LEGAL_SERVICES", description="公共法律服务中心（12348） / public legal services centre"
    )
    PETITIONS = strawberry.enum_value(
        "PETITIONS", description="信访中心 / letters-and-visits (petitions) centre"
    )
    LITIGATION = strawberry.enum_value(
        "LITIGATION", description="诉讼服务中心（法院） / court litigation services centre"
    )
    GOVERNANCE = strawberry.enum_value(
        "GOVERNANCE", description="综治中心（网格化服务管理） / comprehensive governance centre (grid)"
    )


@strawberry.enum(description="统一办理状态 / unified matter status across the five centres")
class MatterStatus(Enum):
    REGISTERED = strawberry.enum_value(
        "REGISTERED", description="已登记（上报），尚未受理 / recorded, not yet accepted"
    )
    ACCEPTED = strawberry.enum_value("ACCEPTED", description="已受理（立案） / accepted")
    IN_PROGRESS = strawberry.enum_value(
        "IN_PROGRESS", description="办理中（调解、审查、审理、处置） / being handled"
    )
    TRANSFERRED = strawberry.enum_value(
        "TRANSFERRED", description="已转送或交办 / forwarded or assigned to another body"
    )
    CLOSED = strawberry.enum_value("CLOSED", description="已办结（案结事了） / closed")
    REJECTED = strawberry.enum_value(
        "REJECTED", description="不予受理、注销或驳回 / not accepted, cancelled or dismissed"
    )
    TERMINATED = strawberry.enum_value(
        "TERMINATED", description="终止或撤回 / terminated or withdrawn"
    )


@strawberry.enum(description="跨中心关联关系（从持有方看） / cross-centre relation, seen from this matter")
class LinkRelation(Enum):
    REFERRED_TO = strawberry.enum_value(
        "REFERRED_TO", description="网格事件移送调解 / this grid event was referred to mediation"
    )
    REFERRED_FROM = strawberry.enum_value(
        "REFERRED_FROM", description="来源于网格事件 / this mediation came from a grid event"
    )
    CONFIRMED_BY = strawberry.enum_value(
        "CONFIRMED_BY", description="调解协议经法院司法确认 / agreement judicially confirmed by"
    )
    CONFIRMS = strawberry.enum_value(
        "CONFIRMS", description="司法确认所依据的调解协议 / the agreement this ruling confirms"
    )
    ESCALATED_TO = strawberry.enum_value(
        "ESCALATED_TO", description="纠纷转为信访 / escalated to a petition"
    )
    ESCALATED_FROM = strawberry.enum_value(
        "ESCALATED_FROM", description="由纠纷转来的信访 / a petition escalated from this matter"
    )
    LEGAL_AID_FOR = strawberry.enum_value(
        "LEGAL_AID_FOR", description="为该诉讼案件提供的法律援助 / legal aid for this court case"
    )
    LEGAL_AID = strawberry.enum_value(
        "LEGAL_AID", description="本案受援的法律援助 / the legal aid received in this case"
    )
    LITIGATED_AS = strawberry.enum_value(
        "LITIGATED_AS", description="调解不成，当事人起诉的案件 / the lawsuit filed after this mediation failed"
    )
    LITIGATED_FROM = strawberry.enum_value(
        "LITIGATED_FROM", description="起诉前调解未成的案件 / the failed mediation this lawsuit followed"
    )
    PRE_LITIGATION_MEDIATION = strawberry.enum_value(
        "PRE_LITIGATION_MEDIATION", description="诉前调解 / the pre-litigation mediation of this case"
    )
    PRE_LITIGATION_OF = strawberry.enum_value(
        "PRE_LITIGATION_OF", description="诉前调解所属诉讼案件 / the court case this mediation precedes"
    )
    TRANSFERRED_TO = strawberry.enum_value(
        "TRANSFERRED_TO", description="已转办、交办至另一中心的事项 / transferred to this matter at another centre"
    )
    TRANSFERRED_FROM = strawberry.enum_value(
        "TRANSFERRED_FROM", description="由另一中心转办、交办而来 / transferred here from this matter at another centre"
    )


@strawberry.enum(description="行政区划层级 / administrative level (GB/T 2260)")
class RegionLevel(Enum):
    PROVINCE = strawberry.enum_value("PROVINCE", description="省级 / province")
    PREFECTURE = strawberry.enum_value("PREFECTURE", description="地级 / prefecture")
    COUNTY = strawberry.enum_value("COUNTY", description="县级 / county")
    TOWNSHIP = strawberry.enum_value("TOWNSHIP", description="乡级（乡镇、街道） / township")
    VILLAGE = strawberry.enum_value("VILLAGE", description="村级（村、社区） / village or community")


@strawberry.enum(description="信访形式 / how a petition came in (信访工作条例 Art.17)")
class PetitionChannel(Enum):
    ONLINE = strawberry.enum_value("ONLINE", description="网上信访 / online")
    LETTER = strawberry.enum_value("LETTER", description="来信 / by letter")
    PHONE = strawberry.enum_value("PHONE", description="来电 / by phone")
    FAX = strawberry.enum_value("FAX", description="传真 / by fax")
    VISIT = strawberry.enum_value("VISIT", description="走访 / in person")
    OTHER = strawberry.enum_value("OTHER", description="其他 / another channel the centre named")


@strawberry.enum(description="信访类别 / kind of petition")
class PetitionType(Enum):
    SUGGESTION = strawberry.enum_value("SUGGESTION", description="建议意见 / suggestion or opinion")
    REPORT = strawberry.enum_value("REPORT", description="检举控告 / report or accusation (reporter protected)")
    COMPLAINT = strawberry.enum_value("COMPLAINT", description="申诉求决 / complaint or claim")
    OTHER = strawberry.enum_value("OTHER", description="其他 / another kind the centre named")
