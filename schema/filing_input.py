"""Validation of ``SubmitMatterInput``: every problem, field by field, in Chinese
and English, before anything is claimed or sent — an invalid filing creates
nothing anywhere.

The error is one ``BAD_USER_INPUT`` whose ``fieldErrors`` lists each field
(``input.applicants[0].idNumber``), a stable ``reason`` and the message, so a
form can mark every wrong box at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any

import strawberry
from graphql import GraphQLError

from onedoor import identifiers, regions
from onedoor.model import CATEGORIES, PartyKind, PartyRecord
from services.filing import Filing

from .errors import bad_input

__all__ = ["AttachmentInput", "Channel", "PartyInput", "SubmitMatterInput", "to_filing"]

MAX_NAME, MAX_TITLE, MAX_DESCRIPTION = 50, 100, 2000
MAX_ADDRESS = 200  # the longest real postal addresses are well under this
MAX_PARTIES, MAX_ATTACHMENTS, MAX_ATTACHMENT_BYTES = 10, 10, 20 * 1024 * 1024
_PHONE = re.compile(r"^(1\d{10}|0\d{2,3}-?\d{7,8})$")


@strawberry.enum(description="受理渠道 / how the matter came in")
class Channel(Enum):
    WINDOW = strawberry.enum_value("WINDOW", description="窗口 / at a service window")
    ONLINE = strawberry.enum_value("ONLINE", description="网上 / online portal")
    PHONE = strawberry.enum_value("PHONE", description="电话 / by phone (12345, 12348)")
    GRID_WORKER = strawberry.enum_value("GRID_WORKER", description="网格员上报 / reported by a grid worker")


@strawberry.input(description="当事人 / a party to the filing")
class PartyInput:
    name: str = strawberry.field(description="姓名或单位名称 / name")
    id_number: str | None = strawberry.field(default=None, description="公民身份号码 / resident ID")
    phone: str | None = strawberry.field(default=None, description="联系电话 / phone")
    address: str | None = strawberry.field(default=None, description="住址 / address")
    organisation_code: str | None = strawberry.field(
        default=None, description="统一社会信用代码（单位） / unified social credit code")


@strawberry.input(description="附件说明（文件另行上传） / an attachment's metadata")
class AttachmentInput:
    name: str = strawberry.field(description="文件名 / file name")
    size_bytes: int = strawberry.field(description="大小（字节） / size in bytes")
    media_type: str | None = strawberry.field(default=None, description="类型 / media type")


@strawberry.input(description="一次提交的事项 / a matter filed once at one window")
class SubmitMatterInput:
    applicants: list[PartyInput] = strawberry.field(description="申请人（首位为主申请人） / applicants")
    category: str = strawberry.field(
        description="类别：纠纷类别、法律援助、法律咨询、建议意见、检举控告、申诉求决、涉法涉诉、网格事件 / category")
    region_code: str = strawberry.field(description="发生地行政区划代码（12位为佳） / region code")
    description: str = strawberry.field(description="事项描述 / what happened and what is asked")
    title: str | None = strawberry.field(default=None, description="标题 / title")
    subject: str | None = strawberry.field(
        default=None, description="所涉纠纷类别（信访、法援等） / the dispute category it is about")
    other_parties: list[PartyInput] = strawberry.field(default_factory=list,
                                                       description="其他当事人 / other parties")
    channel: Channel = strawberry.field(default=Channel.WINDOW, description="受理渠道 / channel")
    court_related: bool = strawberry.field(
        default=False, description="已进入或应进入诉讼程序（涉法涉诉） / litigation-related")
    against_authority: bool = strawberry.field(
        default=False, description="针对国家机关或其工作人员 / about an authority or its staff")
    attachments: list[AttachmentInput] = strawberry.field(default_factory=list,
                                                          description="附件 / attachments")


@dataclass
class _Errors:
    items: list[dict[str, str]]

    def add(self, field: str, reason: str, message: str) -> None:
        self.items.append({"field": field, "reason": reason, "message": message})

    def text(self, value: str | None, field: str, label: str, limit: int, *, required: bool) -> None:
        if value is None or not value.strip():
            if required:
                self.add(field, "missing", f"请填写{label} / {field} is required")
        elif len(value) > limit:
            self.add(field, "too_long", f"{label}不能超过{limit}字 / {field} exceeds {limit} characters")


def _party(p: PartyInput, field: str, role: str, errors: _Errors, *, id_required: bool) -> PartyRecord:
    errors.text(p.name, f"{field}.name", "姓名", MAX_NAME, required=True)
    errors.text(p.address, f"{field}.address", "住址", MAX_ADDRESS, required=False)
    id_number = None
    if p.id_number is not None or id_required:
        try:
            id_number = identifiers.normalise_resident_id(p.id_number or "")
        except identifiers.InvalidIdentifier as exc:
            reason = "missing" if not p.id_number else exc.reason
            errors.add(f"{field}.idNumber", reason, exc.message)
    if p.phone is not None and not _PHONE.match(p.phone):
        errors.add(f"{field}.phone", "format", "电话号码格式不正确 / the phone number is malformed")
    if p.organisation_code is not None and not identifiers.uscc_is_valid(p.organisation_code):
        errors.add(f"{field}.organisationCode", "checksum",
                   "统一社会信用代码校验错误 / the unified social credit code is invalid")
    kind = PartyKind.ORGANISATION if p.organisation_code and not id_number else PartyKind.PERSON
    return PartyRecord(role=role, name=p.name.strip(), kind=kind, id_number=id_number,
                       phone=p.phone, org_code=p.organisation_code, address=p.address)


def to_filing(value: SubmitMatterInput, categories: frozenset[str]) -> Filing:
    """The validated :class:`Filing`, or one ``BAD_USER_INPUT`` listing every bad field."""
    errors = _Errors([])
    if not value.applicants:
        errors.add("input.applicants", "missing", "至少需要一名申请人 / at least one applicant is required")
    if len(value.applicants) + len(value.other_parties) > MAX_PARTIES:
        errors.add("input.otherParties", "too_many", f"当事人不能超过{MAX_PARTIES}人 / at most {MAX_PARTIES} parties")
    applicants = [_party(p, f"input.applicants[{i}]", "APPLICANT", errors, id_required=True)
                  for i, p in enumerate(value.applicants)]
    others = [_party(p, f"input.otherParties[{i}]", "RESPONDENT", errors, id_required=False)
              for i, p in enumerate(value.other_parties)]
    if value.category not in categories:
        errors.add("input.category", "unknown", f"未知的事项类别“{value.category[:20]}” / unknown category")
    if value.subject is not None and value.subject not in CATEGORIES:
        errors.add("input.subject", "unknown", "未知的纠纷类别 / unknown dispute category")
    try:
        regions.get_region(value.region_code)
    except regions.UnknownRegion as exc:
        errors.add("input.regionCode", exc.reason, "未知的行政区划代码 / unknown region code")
    errors.text(value.description, "input.description", "事项描述", MAX_DESCRIPTION, required=True)
    errors.text(value.title, "input.title", "标题", MAX_TITLE, required=False)
    if len(value.attachments) > MAX_ATTACHMENTS:
        errors.add("input.attachments", "too_many", f"附件不能超过{MAX_ATTACHMENTS}个 / at most {MAX_ATTACHMENTS}")
    for i, a in enumerate(value.attachments):
        errors.text(a.name, f"input.attachments[{i}].name", "文件名", 200, required=True)
        if not 0 < a.size_bytes <= MAX_ATTACHMENT_BYTES:
            errors.add(f"input.attachments[{i}].sizeBytes", "too_large",
                       "附件不能超过20MB / an attachment is at most 20 MB")
    if errors.items:
        raise _invalid(errors.items)
    return Filing(
        applicant=applicants[0], others=(*applicants[1:], *others), category=value.category,
        subject=value.subject, region_code=value.region_code, channel=value.channel.name,
        title=(value.title or f"{value.subject or value.category}事项").strip(),
        description=value.description.strip(), court_related=value.court_related,
        against_authority=value.against_authority,
        attachments=tuple((a.name, a.size_bytes) for a in value.attachments))


def _invalid(items: list[dict[str, Any]]) -> GraphQLError:
    first = items[0]
    return bad_input(first["message"] + (f"（另有{len(items) - 1}处） / (+{len(items) - 1} more)"
                                         if len(items) > 1 else ""),
                     field=first["field"], reason=first["reason"], fieldErrors=items)
