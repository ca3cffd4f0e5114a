"""The normalised record model that every connector produces.

Connectors translate each centre's native payloads into these frozen records;
the GraphQL schema reads only these. Times are timezone-aware
(Asia/Shanghai); resident IDs are canonical 18-character strings (or ``None``
where a centre holds an unparseable one).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

__all__ = [
    "CATEGORIES",
    "CST",
    "Centre",
    "EventRecord",
    "LinkRecord",
    "LinkRelation",
    "MatterRecord",
    "MatterStatus",
    "PartyKind",
    "PartyRecord",
    "ResidentRecord",
    "RiskWarningRecord",
]

CST = ZoneInfo("Asia/Shanghai")


class Centre(Enum):
    """The five centres, in the order of their demo ports (port+101 … port+105)."""

    MEDIATION = "MEDIATION"
    LEGAL_SERVICES = "LEGAL_SERVICES"
    PETITIONS = "PETITIONS"
    LITIGATION = "LITIGATION"
    GOVERNANCE = "GOVERNANCE"


class MatterStatus(Enum):
    """One lifecycle over five native ones (the native value is kept as ``centreStatus``)."""

    REGISTERED = "REGISTERED"  # 登记 / 上报: recorded, not yet accepted
    ACCEPTED = "ACCEPTED"  # 受理 / 立案
    IN_PROGRESS = "IN_PROGRESS"  # 办理中: mediating, under review, on trial, dispatched
    TRANSFERRED = "TRANSFERRED"  # 转送 / 交办 / 移送: handed to another body
    CLOSED = "CLOSED"  # 办结 / 结案 / 案结事了
    REJECTED = "REJECTED"  # 不予受理 / 注销 / 驳回
    TERMINATED = "TERMINATED"  # 终止 / 撤回


class LinkRelation(Enum):
    """Cross-centre relations, each named from the side that holds it."""

    REFERRED_TO = "REFERRED_TO"  # grid event → mediation referral (委托移送)
    REFERRED_FROM = "REFERRED_FROM"
    CONFIRMED_BY = "CONFIRMED_BY"  # mediation agreement → court judicial confirmation (司法确认)
    CONFIRMS = "CONFIRMS"
    ESCALATED_TO = "ESCALATED_TO"  # failed mediation / grid event → petition (纠纷转信访)
    ESCALATED_FROM = "ESCALATED_FROM"
    LITIGATED_AS = "LITIGATED_AS"  # failed mediation → the lawsuit filed after it (调解不成起诉)
    LITIGATED_FROM = "LITIGATED_FROM"
    LEGAL_AID_FOR = "LEGAL_AID_FOR"  # legal aid → the court case it supports
    LEGAL_AID = "LEGAL_AID"
    PRE_LITIGATION_MEDIATION = "PRE_LITIGATION_MEDIATION"  # court case → 诉前调解 at mediation
    PRE_LITIGATION_OF = "PRE_LITIGATION_OF"
    TRANSFERRED_TO = "TRANSFERRED_TO"  # 转办/交办: handed on to another centre (transferMatter)
    TRANSFERRED_FROM = "TRANSFERRED_FROM"


class PartyKind(Enum):
    PERSON = "PERSON"
    ORGANISATION = "ORGANISATION"


# Dispute categories used in statistics (DOMAIN.md), in the centres' shared order.
CATEGORIES: tuple[str, ...] = (
    "婚姻家庭", "邻里", "房屋宅基地", "合同", "生产经营", "损害赔偿", "山林土地",
    "征地拆迁", "环境污染", "劳动争议", "消费", "医疗", "道路交通事故", "物业", "其他",
)

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class PartyRecord:
    role: str  # native role normalised to APPLICANT / RESPONDENT / PETITIONER / PLAINTIFF …
    name: str
    kind: PartyKind = PartyKind.PERSON
    id_number: str | None = None  # canonical 18-char resident ID
    phone: str | None = None
    org_code: str | None = None  # unified social credit code for organisations
    address: str | None = None


@dataclass(frozen=True, slots=True)
class EventRecord:
    at: dt.datetime
    action: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class LinkRecord:
    relation: LinkRelation
    centre: Centre
    native_id: str


@dataclass(frozen=True, slots=True)
class MatterRecord:
    centre: Centre
    native_id: str
    reference: str
    category: str
    title: str
    status: MatterStatus
    centre_status: str
    region_code: str
    received_at: dt.datetime
    parties: tuple[PartyRecord, ...] = ()
    due_at: dt.datetime | None = None  # the governing deadline (onedoor.deadlines.due_at)
    closed_at: dt.datetime | None = None
    events: tuple[EventRecord, ...] = ()
    links: tuple[LinkRecord, ...] = ()
    # Centre-specific fields (mediation_type, petition_type, case_number …),
    # read by the concrete GraphQL types.
    extra: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)

    @property
    def key(self) -> tuple[Centre, str]:
        return (self.centre, self.native_id)

    def sort_key(self) -> tuple[float, str, str]:
        """Newest first, then a stable tie-break on centre and native id."""
        return (-self.received_at.timestamp(), self.centre.value, self.native_id)


@dataclass(frozen=True, slots=True)
class RiskWarningRecord:
    """A risk warning (风险预警) the governance centre raised for a region: an
    aggregate judgement about a kind of dispute rising there, naming no person."""

    warning_no: str
    level: str  # RED 红 · ORANGE 橙 · YELLOW 黄 · BLUE 蓝 (四级预警)
    region_code: str
    summary: str
    raised_at: dt.datetime


@dataclass(frozen=True, slots=True)
class ResidentRecord:
    """Base data of a resident (实有人口), from the governance centre."""

    id_number: str
    name: str
    phone: str | None
    address: str | None
    region_code: str
    grid_code: str | None = None
