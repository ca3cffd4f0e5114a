"""``Citizen``: one person across the five centres."""

from __future__ import annotations

import datetime as dt

import strawberry

from onedoor.model import ResidentRecord
from policy.disclosure import Kind, Protections

from .connection import MatterConnection, connection_of
from .context import RequestContext
from .disclosed import personal_data
from .enums import Centre, MatterStatus
from .fetch import citizen_records
from .matter import Matter
from .present import present
from .region import Region, region_of
from .scopes import requires_scopes
from .trace import CitizenTrace, build_trace
from .validation import check_first, cursor_arg

__all__ = ["Citizen", "TimelineEntry", "build_citizen"]


@strawberry.type(description="时间线上的一条记录 / one entry on a citizen's timeline")
class TimelineEntry:
    at: dt.datetime = strawberry.field(description="时间 / when")
    centre: Centre = strawberry.field(description="中心 / centre")
    action: str = strawberry.field(description="环节 / what happened")
    note: str | None = strawberry.field(description="说明 / remark")
    matter: Matter = strawberry.field(description="所属事项 / the matter")


@strawberry.type(description=(
    "群众：基础数据来自综治中心实有人口库；库中无此人、综治中心不可用或调用方无 governance:read 时基础数据字段为空。"
    "未成年人及在可见保密事项中受保护者始终脱敏（本人经 me 查看时除外） / a resident: base data from the "
    "governance centre's register, null when the person is not in it, the centre is unavailable or the caller "
    "lacks governance:read. Minors, and persons protected in a confidential matter the caller reaches, are "
    "always masked (except to themselves through `me`)"))
class Citizen:
    id_number: str = personal_data(Kind.ID_NUMBER, "公民身份号码（无 pii:read 时脱敏） / resident ID")
    name: str | None = personal_data(Kind.NAME, "姓名（无 pii:read 时脱敏；无基础数据时为空） / name")
    phone: str | None = personal_data(Kind.PHONE, "电话（无 pii:read 时脱敏） / phone")
    address: str | None = personal_data(Kind.ADDRESS, "住址（无 pii:read 时脱敏） / address")
    region: Region | None = strawberry.field(description="户籍或居住地 / home region")
    key: strawberry.Private[str]
    protections: strawberry.Private[Protections]

    @strawberry.field(description="在五个中心的事项，按受理时间倒序 / matters at the five centres, newest first")
    async def matters(
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
        from onedoor.model import Centre as DomainCentre

        wanted = [DomainCentre[c.name] for c in centres] if centres is not None else None
        records = await citizen_records(ctx, self.key, wanted, info.path.as_list())
        return connection_of(records, ctx, statuses=statuses, first=first, after=position)

    @strawberry.field(description="跨中心时间线，最新在前 / one timeline across centres, newest first")
    async def timeline(self, info: strawberry.Info, first: int = 50) -> list[TimelineEntry]:
        ctx: RequestContext = info.context
        check_first(first)
        records = await citizen_records(ctx, self.key, None, info.path.as_list())
        entries: list[TimelineEntry] = []
        for record in records:
            matter = present(record, ctx)
            for event in record.events:
                entries.append(
                    TimelineEntry(
                        at=event.at, centre=matter.centre, action=event.action,
                        note=event.note, matter=matter,
                    )
                )
        entries.sort(key=lambda e: e.at, reverse=True)
        return entries[:first]

    @strawberry.field(
        description="跨中心追溯链（移送、转信访、司法确认） / the cross-centre chain of this person's matters",
        extensions=[requires_scopes(["audit:read"])],
    )
    async def trace(self, info: strawberry.Info) -> CitizenTrace:
        return await build_trace(info.context, self.key, info.path.as_list())


def build_citizen(id_number: str, resident: ResidentRecord | None, ctx: RequestContext,
                  protections: Protections) -> Citizen:
    """A citizen from raw base data (``None`` when unknown); the fields disclose."""
    ctx.citizens_touched.add(id_number)
    return Citizen(
        id_number=id_number,
        name=resident.name if resident else None,
        phone=resident.phone if resident else None,
        address=resident.address if resident else None,
        region=region_of(resident.region_code) if resident else None,
        key=id_number,
        protections=protections,
    )
