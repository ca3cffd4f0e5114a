"""Citizen and organisation identifiers, validated at the edge.

Resident identity numbers follow GB 11643-1999: a 6-digit region code,
the birth date ``YYYYMMDD``, a 3-digit sequence (odd for men) and an ISO 7064
MOD 11-2 check character. Legacy 15-digit numbers (``YYMMDD``, no check
character) still live in old systems; they upgrade to 18 digits by inserting
``19`` and appending the check character. A lowercase ``x`` equals ``X``.

Unified social credit codes (统一社会信用代码, GB 32100-2015) name organisations:
a registration-authority character, an entity-type character, the 6-digit region
of registration, a 9-character organisation code and a check character, over
``0-9ABCDEFGHJKLMNPQRTUWXY`` (no I, O, S, V, Z) with weights ``3^i mod 31``.

>>> normalise_resident_id("11010519491231002x")
'11010519491231002X'
>>> normalise_uscc(" 91632301ma7abcde1e ")
'91632301MA7ABCDE1E'
"""

from __future__ import annotations

import datetime as dt
import functools
import re

from onedoor.regions import PROVINCE_CODES

__all__ = [
    "InvalidIdentifier",
    "check_char",
    "legacy_variants",
    "make_resident_id",
    "normalise_resident_id",
    "normalise_uscc",
    "to_legacy_15",
    "uscc_is_valid",
]

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
# ASCII digits only: ``\d`` would also take full-width ones (６３２３…), which int() reads happily.
_DIGITS17 = re.compile(r"\A[0-9]{17}[0-9X]\Z")
_DIGITS15 = re.compile(r"\A[0-9]{15}\Z")
_FULL_WIDTH = re.compile("[\uff10-\uff19\uff38\uff58]")  # ０-９, Ｘ, ｘ

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


class InvalidIdentifier(ValueError):
    """A malformed identifier. ``reason`` is a stable machine-readable word."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def check_char(first17: str) -> str:
    """The MOD 11-2 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def make_resident_id(region6: str, birth: dt.date, sequence: int) -> str:
    body = f"{region6}{birth:%Y%m%d}{sequence:03d}"
    return body + check_char(body)


def _check_birth(text: str) -> None:
    try:
        born = dt.datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        raise InvalidIdentifier(
            "date", "身份证号出生日期无效 / the birth date in the resident ID is not a date"
        ) from None
    if born.year < 1900 or born > dt.date.today():
        raise InvalidIdentifier(
            "date", "身份证号出生日期超出范围 / the birth date in the resident ID is out of range"
        )


@functools.lru_cache(maxsize=65536)
def normalise_resident_id(raw: str) -> str:
    """Return the canonical 18-character form, or raise :class:`InvalidIdentifier`.

    Accepts surrounding whitespace, lowercase ``x`` and legacy 15-digit numbers.
    Cached: every record a centre returns carries IDs, mostly the same few.
    """
    value = raw.strip().upper()
    if _FULL_WIDTH.search(value):
        raise InvalidIdentifier(
            "full_width", "身份证号含全角数字或字母，请使用半角字符 / the resident ID contains full-width "
            "digits or X; use ASCII (half-width) characters")
    if (_DIGITS15.match(value) or _DIGITS17.match(value)) and value[:2] not in PROVINCE_CODES:
        raise InvalidIdentifier(
            "region", f"身份证号前六位不是有效的行政区划代码（省级代码{value[:2]}不存在，GB/T 2260） / the first six "
            f"digits of a resident ID are a GB/T 2260 region code; province {value[:2]} does not exist")
    if _DIGITS15.match(value):
        _check_birth("19" + value[6:12])
        body = value[:6] + "19" + value[6:15]
        return body + check_char(body)
    if len(value) != 18:
        raise InvalidIdentifier(
            "length", "身份证号应为18位（或旧式15位） / a resident ID has 18 (or legacy 15) characters"
        )
    if not _DIGITS17.match(value):
        raise InvalidIdentifier(
            "format", "身份证号只能包含数字和末位X / a resident ID is digits with an optional final X"
        )
    _check_birth(value[6:14])
    if check_char(value[:17]) != value[17]:
        raise InvalidIdentifier(
            "checksum", "身份证号校验位错误 / the resident ID check character is wrong"
        )
    return value


def to_legacy_15(canonical: str) -> str | None:
    """The 15-digit legacy form of an 18-digit ID, where one can exist (born 1900-1999)."""
    if canonical[6:8] != "19":
        return None
    return canonical[:6] + canonical[8:17]


def legacy_variants(canonical: str) -> tuple[str, ...]:
    """Every spelling an old system may have stored for ``canonical``: itself, a
    lowercase ``x``, and the 15-digit legacy form."""
    variants = [canonical]
    if canonical.endswith("X"):
        variants.append(canonical[:-1] + "x")
    legacy = to_legacy_15(canonical)
    if legacy is not None:
        variants.append(legacy)
    return tuple(variants)


def uscc_is_valid(code: str) -> bool:
    """Unified social credit code (GB 32100-2015) check."""
    try:
        normalise_uscc(code)
    except InvalidIdentifier:
        return False
    return True


def normalise_uscc(raw: str) -> str:
    """The canonical (upper-case, trimmed) unified social credit code, or raise
    :class:`InvalidIdentifier` (``length``, ``full_width``, ``format``, ``checksum``)."""
    code = raw.strip().upper()
    if any("\uff10" <= c <= "\uff5a" for c in code):
        raise InvalidIdentifier(
            "full_width", "统一社会信用代码含全角字符，请使用半角字符 / the unified social credit code contains "
            "full-width characters; use ASCII (half-width) ones")
    if len(code) != 18:
        raise InvalidIdentifier(
            "length", "统一社会信用代码应为18位 / a unified social credit code has 18 characters")
    if any(c not in _USCC_ALPHABET for c in code):
        raise InvalidIdentifier(
            "format", "统一社会信用代码只能包含数字和大写字母（不含I、O、S、V、Z） / a unified social credit code is "
            "digits and capital letters other than I, O, S, V and Z")
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(code[:17], _USCC_WEIGHTS, strict=True))
    if _USCC_ALPHABET[(31 - total % 31) % 31] != code[17]:
        raise InvalidIdentifier(
            "checksum", "统一社会信用代码校验位错误 / the unified social credit code check character is wrong")
    return code
