"""Global ids and cursors: opaque to clients, stable for us.

A global id is ``base64url("<Centre>:<native id>")`` — stable because native ids
are, and opaque so that clients never build them by hand.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json

from onedoor.model import Centre

__all__ = ["BadCursor", "BadGlobalId", "decode_cursor", "decode_id", "encode_cursor", "encode_id"]


class BadGlobalId(ValueError):
    pass


class BadCursor(ValueError):
    pass


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _unb64(text: str) -> str:
    padded = text + "=" * (-len(text) % 4)
    return base64.urlsafe_b64decode(padded.encode("ascii")).decode()


def encode_id(centre: Centre, native_id: str) -> str:
    return _b64(f"{centre.value}:{native_id}")


def decode_id(global_id: str) -> tuple[Centre, str]:
    try:
        centre_name, native_id = _unb64(global_id).split(":", 1)
        centre = Centre(centre_name)
    except (ValueError, UnicodeError, binascii.Error):
        raise BadGlobalId(global_id) from None
    if not native_id:
        raise BadGlobalId(global_id)
    return centre, native_id


Position = tuple[dt.datetime, Centre, str]


def encode_cursor(position: Position) -> str:
    at, centre, native_id = position
    return _b64(json.dumps([at.isoformat(), centre.value, native_id], ensure_ascii=False))


def decode_cursor(cursor: str) -> Position:
    try:
        at, centre, native_id = json.loads(_unb64(cursor))
        parsed = dt.datetime.fromisoformat(at)
        if parsed.tzinfo is None or not isinstance(native_id, str):
            raise ValueError
        return parsed, Centre(centre), native_id
    except (ValueError, TypeError, UnicodeError, binascii.Error):
        raise BadCursor(cursor) from None
