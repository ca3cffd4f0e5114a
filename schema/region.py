"""``Region``: GB/T 2260 divisions, served from reference data (no centre call)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from onedoor import regions as ref

from .enums import RegionLevel

__all__ = ["Region", "region_of"]


@strawberry.type(description="行政区划（GB/T 2260） / an administrative division")
class Region:
    code: str = strawberry.field(description="区划代码（6位或12位） / 6- or 12-digit code")
    name: str = strawberry.field(description="名称 / name")
    level: RegionLevel = strawberry.field(description="层级 / level")
    parent_code: strawberry.Private[str | None]

    @strawberry.field(description="上级区划 / the parent division")
    def parent(self) -> Annotated[Region, strawberry.lazy("schema.region")] | None:
        return region_of(self.parent_code) if self.parent_code else None

    @strawberry.field(description="下级区划 / the divisions directly below")
    def children(self) -> list[Annotated[Region, strawberry.lazy("schema.region")]]:
        return [_build(r) for r in ref.children_of(self.code)]


def _build(region: ref.Region) -> Region:
    return Region(
        code=region.code,
        name=region.name,
        level=RegionLevel[region.level.name],
        parent_code=region.parent_code,
    )


def region_of(code: str) -> Region:
    """The Region for a record's code; a code missing from reference data still
    yields a Region (named by its code) rather than failing the matter."""
    try:
        return _build(ref.get_region(code))
    except ref.UnknownRegion:
        level = RegionLevel.VILLAGE if len(code) == 12 else RegionLevel.COUNTY
        return Region(code=code, name=code, level=level, parent_code=None)
