"""Masking of personal data (PIPL Art.51 de-identification), applied on the server.

Pure string functions: the field stage decides *whether* a value is masked
(scope ``pii:read``, the caller's purpose, whether a party is an organisation,
whose names are public and are simply not passed to :func:`mask_name`); these
decide only *how*. Every function keeps the length of its input (a masked
value still lines up in a table), never returns an unmasked value of two or
more characters, and masking a masked value reveals nothing more.

>>> mask_id_number("630121198001011234"), mask_phone("13812345678"), mask_name("欧阳娜娜")
('6301**********1234', '138****5678', '欧阳**')
>>> mask_address("青海省黄南藏族自治州同仁市隆务镇夏琼路12号")
'青海省黄南藏族自治州同仁市隆务镇******'
"""

from __future__ import annotations

import re

__all__ = ["COMPOUND_SURNAMES", "mask_address", "mask_id_number", "mask_name", "mask_phone"]

STAR = "*"

# The common two-character surnames (复姓); a name starting with one keeps both.
_COMPOUND = (
    "欧阳 太史 端木 上官 司马 东方 独孤 南宫 万俟 闻人 夏侯 诸葛 尉迟 公羊 赫连 澹台 皇甫 "
    "宗政 濮阳 公冶 太叔 申屠 公孙 慕容 仲孙 钟离 长孙 宇文 司徒 鲜于 司空 令狐 呼延 "
    "轩辕 第五 百里 东郭 西门 左丘 梁丘 拓跋 段干 南门 羊舌 微生"
)
COMPOUND_SURNAMES = frozenset(_COMPOUND.split())

# '*' counts as a digit so that an already masked number keeps its shape.
_MOBILE = re.compile(r"^(\+?86[- ]?)?(1[\d*]{2})([\d*]{4})([\d*]{4})$")
_AREA_CODE = re.compile(r"^(\(0\d{2,3}\)\s?|0\d{2,3}[- ])")


def _stars(n: int) -> str:
    return STAR * n


def mask_id_number(value: str) -> str:
    """First 4 and last 4 characters kept (``6301**********1234``): the
    province/prefecture and the check digits identify no one on their own."""
    if len(value) <= 8:
        return _stars(len(value))
    return value[:4] + _stars(len(value) - 8) + value[-4:]


def _keep_last_digits(text: str, keep: int = 4) -> str:
    """Stars every digit but the last ``keep``; separators stay in place. With
    nothing to hide behind (≤ ``keep`` digits) every character is starred."""
    positions = [i for i, c in enumerate(text) if c.isdigit() or c == STAR]
    if len(positions) <= keep:
        return _stars(len(text))
    hidden = set(positions[:-keep])
    return "".join(STAR if i in hidden else c for i, c in enumerate(text))


def mask_phone(value: str) -> str:
    """Mobiles keep 3 + 4 (``138****5678``); landlines keep the area code and
    the last 4 digits (``0971-****5678``); anything else keeps the last 4 digits."""
    mobile = _MOBILE.match(value)
    if mobile is not None:
        prefix, head, _, tail = mobile.groups()
        return (prefix or "") + head + _stars(4) + tail
    area = _AREA_CODE.match(value)
    if area is not None and len(value) > area.end():
        return area.group(0) + _keep_last_digits(value[area.end() :])
    return _keep_last_digits(value)


def mask_name(value: str) -> str:
    """Surname kept, the rest starred (``张*``, ``欧阳**``).

    Only for people: an organisation's name is public and the caller does not
    mask it at all (it knows the party's kind; a name alone does not tell).
    """
    if len(value) <= 1:
        return _stars(len(value))
    keep = 2 if len(value) > 2 and value[:2] in COMPOUND_SURNAMES else 1
    return value[:keep] + _stars(len(value) - keep)


# Administrative markers with their level (1 province … 4 township). Longer
# markers first so that 自治区 is not read as a county's 区.
_LEVELS: dict[str, int] = {
    "特别行政区": 1, "自治区": 1, "省": 1,
    "自治州": 2, "地区": 2, "盟": 2,
    "自治县": 3, "自治旗": 3, "县": 3, "区": 3, "旗": 3,
    "街道": 4, "苏木": 4, "镇": 4, "乡": 4,
    "市": 0,  # prefecture or county-level city: decided by position
}
_MARKER = re.compile(
    r"[^*]{1,10}?(" + "|".join(sorted(map(re.escape, _LEVELS), key=len, reverse=True)) + ")"
)


def _administrative_end(value: str) -> int:
    """Index just past the township (or the deepest level found), 0 if none.

    Levels must descend (省 → 州/市 → 县/区/市 → 镇/乡/街道), which keeps a 小区 or
    a street named 乡村路 after the township from widening what is shown.
    """
    pos, level = 0, 0
    while level < 4:
        match = _MARKER.match(value, pos)
        if match is None:
            break
        marker_level = _LEVELS[match.group(1)] or (2 if level < 2 else 3)
        if marker_level <= level:
            break
        pos, level = match.end(), marker_level
    return pos


def mask_address(value: str) -> str:
    """Keeps the divisions down to the county or township, stars the rest.

    An address with no recognisable division keeps only its first third.
    """
    end = _administrative_end(value)
    if end == 0 or end >= len(value):
        end = min(len(value) // 3, 6)
    return value[:end] + _stars(len(value) - end)
