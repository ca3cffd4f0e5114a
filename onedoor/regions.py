"""GB/T 2260 administrative divisions of the seed places, plus made-up
township (乡镇/街道) and village (村/社区) codes below their counties.

Six-digit codes are province (2) + prefecture (2) + county (2); the 12-digit
statistical codes add township (3) and village (3). Jurisdiction is a code
prefix: ``630000`` Qinghai contains ``632300`` Huangnan contains its counties.

The province/prefecture/county names and codes are the real ones; townships and
villages are synthetic and deterministic so that demo data is reproducible.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from functools import cache

__all__ = [
    "PROVINCE_ABBREVIATIONS",
    "PROVINCE_CODES",
    "Region",
    "RegionLevel",
    "UnknownRegion",
    "all_regions",
    "canonical_prefix",
    "children_of",
    "counties",
    "get_region",
    "region_matches",
    "villages",
]


class RegionLevel(Enum):
    PROVINCE = "PROVINCE"
    PREFECTURE = "PREFECTURE"
    COUNTY = "COUNTY"
    TOWNSHIP = "TOWNSHIP"
    VILLAGE = "VILLAGE"


@dataclass(frozen=True, slots=True)
class Region:
    code: str  # 6 digits for province..county, 12 for township and village
    name: str
    level: RegionLevel
    parent_code: str | None

    @property
    def prefix(self) -> str:
        """The significant prefix: ``63`` for a province, ``6323`` for a prefecture …"""
        return canonical_prefix(self.code)


class UnknownRegion(ValueError):
    def __init__(self, code: str, reason: str = "unknown") -> None:
        self.code = code
        self.reason = reason
        super().__init__(
            f"未知或无效的行政区划代码 / unknown or malformed region code: {code!r}"
        )


# Real GB/T 2260 codes of the seed places (provinces, prefectures, counties).
_SEED: dict[str, str] = {
    "630000": "青海省",
    "630100": "西宁市",
    "630102": "城东区",
    "630103": "城中区",
    "630104": "城西区",
    "630105": "城北区",
    "630106": "湟中区",
    "630121": "大通回族土族自治县",
    "630123": "湟源县",
    "632300": "黄南藏族自治州",
    "632301": "同仁市",
    "632322": "尖扎县",
    "632323": "泽库县",
    "632324": "河南蒙古族自治县",
    "650000": "新疆维吾尔自治区",
    "650200": "克拉玛依市",
    "650202": "独山子区",
    "650203": "克拉玛依区",
    "650204": "白碱滩区",
    "650205": "乌尔禾区",
    "620000": "甘肃省",
    "620800": "平凉市",
    "620802": "崆峒区",
    "620821": "泾川县",
    "620822": "灵台县",
    "620823": "崇信县",
    "620825": "庄浪县",
    "620826": "静宁县",
    "620881": "华亭市",
    "430000": "湖南省",
    "431300": "娄底市",
    "431302": "娄星区",
    "431321": "双峰县",
    "431322": "新化县",
    "431381": "冷水江市",
    "431382": "涟源市",
}

# Court codes in 案号 use the province abbreviation (京0105 ↔ 110105).
PROVINCE_ABBREVIATIONS: dict[str, str] = {"63": "青", "65": "新", "62": "甘", "43": "湘"}

TOWNSHIPS_PER_COUNTY = 4
VILLAGES_PER_TOWNSHIP = 5

_SYLLABLES = "安宝城东丰福光和河华吉金乐林龙明南平清泉瑞山石泰天西祥新阳永玉云长中"
_TOWNSHIP_SUFFIX = ("镇", "乡", "街道", "镇")
_VILLAGE_SUFFIX = ("村", "村", "社区", "村", "村")
# ASCII digits only, and nothing after them: ``\d`` would take full-width
# digits (６３２３００) and ``$`` a trailing newline.
_CODE = re.compile(r"\A[0-9]{6}(?:[0-9]{6})?\Z")

# GB/T 2260 province-level codes (省级): a code outside these names no place.
PROVINCE_CODES: frozenset[str] = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82",
})


def _synthetic_name(code: str, suffixes: tuple[str, ...], index: int) -> str:
    digest = hashlib.sha256(code.encode()).digest()
    a = _SYLLABLES[digest[0] % len(_SYLLABLES)]
    b = _SYLLABLES[digest[1] % len(_SYLLABLES)]
    return f"{a}{b}{suffixes[index % len(suffixes)]}"


def _level_of(code6: str) -> RegionLevel:
    if code6.endswith("0000"):
        return RegionLevel.PROVINCE
    if code6.endswith("00"):
        return RegionLevel.PREFECTURE
    return RegionLevel.COUNTY


def _parent_of(code6: str) -> str | None:
    level = _level_of(code6)
    if level is RegionLevel.PROVINCE:
        return None
    if level is RegionLevel.PREFECTURE:
        return code6[:2] + "0000"
    prefecture = code6[:4] + "00"
    return prefecture if prefecture in _SEED else code6[:2] + "0000"


@cache
def _table() -> dict[str, Region]:
    table: dict[str, Region] = {}
    for code, name in _SEED.items():
        table[code] = Region(code, name, _level_of(code), _parent_of(code))
    for county in [r for r in table.values() if r.level is RegionLevel.COUNTY]:
        for t in range(1, TOWNSHIPS_PER_COUNTY + 1):
            tcode = f"{county.code}{t:03d}000"
            table[tcode] = Region(
                tcode, _synthetic_name(tcode, _TOWNSHIP_SUFFIX, t), RegionLevel.TOWNSHIP,
                county.code,
            )
            for v in range(1, VILLAGES_PER_TOWNSHIP + 1):
                vcode = f"{county.code}{t:03d}{v:03d}"
                table[vcode] = Region(
                    vcode, _synthetic_name(vcode, _VILLAGE_SUFFIX, v), RegionLevel.VILLAGE,
                    tcode,
                )
    return table


@cache
def _children() -> dict[str, tuple[str, ...]]:
    kids: dict[str, list[str]] = {}
    for region in _table().values():
        if region.parent_code is not None:
            kids.setdefault(region.parent_code, []).append(region.code)
    return {k: tuple(sorted(v)) for k, v in kids.items()}


def canonical_prefix(code: str) -> str:
    """The significant digits of a code: trailing zero groups are dropped.

    >>> canonical_prefix("632300"), canonical_prefix("632301001000")
    ('6323', '632301001')
    """
    if not _CODE.match(code):
        raise UnknownRegion(code, "format")
    if code[:2] not in PROVINCE_CODES:
        raise UnknownRegion(code, "province")
    if len(code) == 12:
        if code.endswith("000"):
            return code[:9]
        return code
    for cut in (2, 4):
        if code[cut:] == "0" * (6 - cut):
            return code[:cut]
    return code


def get_region(code: str) -> Region:
    """Look up a 6- or 12-digit code; a 12-digit code ending in ``000000`` is its county."""
    if not _CODE.match(code):
        raise UnknownRegion(code, "format")
    if len(code) == 12 and code.endswith("000000"):
        code = code[:6]
    region = _table().get(code)
    if region is None:
        raise UnknownRegion(code)
    return region


def children_of(code: str) -> tuple[Region, ...]:
    table = _table()
    return tuple(table[c] for c in _children().get(get_region(code).code, ()))


def all_regions() -> Iterator[Region]:
    return iter(_table().values())


def counties() -> tuple[Region, ...]:
    return tuple(r for r in _table().values() if r.level is RegionLevel.COUNTY)


def villages() -> tuple[Region, ...]:
    return tuple(r for r in _table().values() if r.level is RegionLevel.VILLAGE)


def region_matches(region_code: str, prefixes: tuple[str, ...]) -> bool:
    """Whether a record's region code lies inside any of the jurisdiction prefixes."""
    return any(region_code.startswith(p) for p in prefixes)
