"""Input validation at the edge: bad identifiers become ``BAD_USER_INPUT``
errors with a field and a stable reason, never a 500."""

from __future__ import annotations

from onedoor import identifiers, regions
from onedoor.model import Centre

from .errors import bad_input
from .ids import BadCursor, BadGlobalId, Position, decode_cursor, decode_id

__all__ = ["MAX_PAGE", "check_first", "credit_code_arg", "cursor_arg", "global_id_arg", "region_arg",
           "resident_id_arg"]

MAX_PAGE = 100


def resident_id_arg(value: str, field: str = "idNumber") -> str:
    try:
        return identifiers.normalise_resident_id(value)
    except identifiers.InvalidIdentifier as exc:
        raise bad_input(exc.message, field=field, reason=exc.reason) from None


def credit_code_arg(value: str, field: str = "creditCode") -> str:
    """A unified social credit code (GB 32100-2015) with a valid check character; canonical."""
    try:
        return identifiers.normalise_uscc(value)
    except identifiers.InvalidIdentifier as exc:
        raise bad_input(exc.message, field=field, reason=exc.reason) from None


def region_arg(value: str, field: str = "code") -> str:
    """A 6- or 12-digit code that exists in the reference data; returns its prefix."""
    try:
        return regions.get_region(value).prefix
    except regions.UnknownRegion as exc:
        raise bad_input(str(exc), field=field, reason=exc.reason) from None


def check_first(first: int, field: str = "first") -> int:
    if not 0 <= first <= MAX_PAGE:
        raise bad_input(
            f"每页数量须在0到{MAX_PAGE}之间 / `first` must be between 0 and {MAX_PAGE}",
            field=field,
            reason="range",
        )
    return first


def cursor_arg(value: str | None) -> Position | None:
    if value is None:
        return None
    try:
        return decode_cursor(value)
    except BadCursor:
        raise bad_input("无效的分页游标 / malformed cursor", field="after", reason="format") from None


def global_id_arg(value: str) -> tuple[Centre, str]:
    try:
        return decode_id(value)
    except BadGlobalId:
        raise bad_input("无效的ID / malformed id", field="id", reason="format") from None


