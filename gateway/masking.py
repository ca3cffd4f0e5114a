"""Masking of personal data (PIPL Art.51 de-identification), applied on the server.

>>> mask_id_number("630121198001011234"), mask_phone("13812345678"), mask_name("欧阳娜娜")
('6301**********1234', '138****5678', '欧阳**')
"""

from __future__ import annotations

__all__ = ["mask_address", "mask_id_number", "mask_name", "mask_phone"]

_COMPOUND_SURNAMES = frozenset(
    "欧阳 太史 端木 上官 司马 东方 独孤 南宫 万俟 闻人 夏侯 诸葛 尉迟 公羊 赫连 澹台 皇甫 "
    "宗政 濮阳 公冶 太叔 申屠 公孙 慕容 仲孙 钟离 长孙 宇文 司徒 鲜于 司空 令狐".split()
)


def mask_id_number(value: str) -> str:
    """First 4 and last 4 characters kept (``6301**********1234``)."""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(value: str) -> str:
    """Mobiles keep 3 + 4 (``138****5678``); other numbers keep only the last 4."""
    digits = value.strip()
    if len(digits) == 11 and digits.isdigit():
        return digits[:3] + "****" + digits[7:]
    if len(digits) <= 4:
        return "*" * len(digits)
    return "*" * (len(digits) - 4) + digits[-4:]


def mask_name(value: str) -> str:
    """Surname kept, the rest starred (``张*``, ``欧阳**``)."""
    if len(value) <= 1:
        return "*" * len(value)
    keep = 2 if value[:2] in _COMPOUND_SURNAMES and len(value) > 2 else 1
    return value[:keep] + "*" * (len(value) - keep)


def mask_address(value: str) -> str:
    """Keeps the administrative part up to the township (镇/乡/街道), stars the rest."""
    for marker in ("街道", "镇", "乡"):
        cut = value.find(marker)
        if cut != -1:
            end = cut + len(marker)
            if end < len(value):
                return value[:end] + "*" * min(len(value) - end, 8)
    keep = min(6, len(value) // 2)
    return value[:keep] + "*" * min(len(value) - keep, 8)
