"""MatterRecord ⇄ JSON for the shared (Redis) cache level.

JSON rather than pickle: another replica — possibly a newer release — reads
what this one wrote, and unpickling shared bytes would execute them. Every
payload carries a version tag; a record written under another version is a
miss, not an error. Round trips are exact: aware datetimes keep their zone
name (``2024-05-01T09:30:00+08:00[Asia/Shanghai]``, as RFC 9557), and the
centre-specific ``extra`` values keep their types (dates, tuples, nested maps,
enums) through small ``$``-tagged wrappers.

Example::

    assert loads(dumps(record)) == record
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from enum import Enum
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from onedoor.model import (
    Centre,
    EventRecord,
    LinkRecord,
    LinkRelation,
    MatterRecord,
    MatterStatus,
    PartyKind,
    PartyRecord,
)

__all__ = ["VERSION", "CodecError", "dumps", "loads"]

VERSION = 1
_ENUMS: Mapping[str, type[Enum]] = {
    cls.__name__: cls for cls in (Centre, MatterStatus, PartyKind, LinkRelation)
}


class CodecError(ValueError):
    """A value this codec cannot write, or a payload it cannot read."""


def _time(value: dt.datetime) -> str:
    zone = value.tzinfo
    suffix = f"[{zone.key}]" if isinstance(zone, ZoneInfo) else ""
    return value.isoformat() + suffix


def _parse_time(text: str) -> dt.datetime:
    iso, _, zone = text.partition("[")
    value = dt.datetime.fromisoformat(iso)
    return value.astimezone(ZoneInfo(zone.rstrip("]"))) if zone else value


def _enc(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Enum):
        return {"$enum": type(value).__name__, "v": value.value}
    if isinstance(value, dt.datetime):
        return {"$dt": _time(value)}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, tuple):
        return {"$tuple": [_enc(v) for v in value]}
    if isinstance(value, list):
        return [_enc(v) for v in value]
    if isinstance(value, Mapping):
        return {"$map": {str(k): _enc(v) for k, v in value.items()}}
    raise CodecError(f"cannot encode {type(value).__name__}")


def _dec(raw: Any) -> Any:
    if isinstance(raw, list):
        return [_dec(v) for v in raw]
    if not isinstance(raw, dict):
        return raw
    if "$dt" in raw:
        return _parse_time(raw["$dt"])
    if "$date" in raw:
        return dt.date.fromisoformat(raw["$date"])
    if "$tuple" in raw:
        return tuple(_dec(v) for v in raw["$tuple"])
    if "$map" in raw:
        return MappingProxyType({k: _dec(v) for k, v in raw["$map"].items()})
    if "$enum" in raw:
        return _ENUMS[raw["$enum"]](raw["v"])
    raise CodecError("unknown tagged value")


def _opt_time(value: dt.datetime | None) -> str | None:
    return None if value is None else _time(value)


def _opt_parse(text: str | None) -> dt.datetime | None:
    return None if text is None else _parse_time(text)


def _record(r: MatterRecord) -> dict[str, Any]:
    return {
        "centre": r.centre.value, "native_id": r.native_id, "reference": r.reference,
        "category": r.category, "title": r.title, "status": r.status.value,
        "centre_status": r.centre_status, "region_code": r.region_code,
        "received_at": _time(r.received_at), "due_at": _opt_time(r.due_at),
        "closed_at": _opt_time(r.closed_at),
        "parties": [{"role": p.role, "name": p.name, "kind": p.kind.value,
                     "id_number": p.id_number, "phone": p.phone, "org_code": p.org_code,
                     "address": p.address} for p in r.parties],
        "events": [{"at": _time(e.at), "action": e.action, "note": e.note} for e in r.events],
        "links": [{"relation": k.relation.value, "centre": k.centre.value,
                   "native_id": k.native_id} for k in r.links],
        "extra": _enc(dict(r.extra))["$map"],
    }


def _from(d: dict[str, Any]) -> MatterRecord:
    return MatterRecord(
        centre=Centre(d["centre"]), native_id=d["native_id"], reference=d["reference"],
        category=d["category"], title=d["title"], status=MatterStatus(d["status"]),
        centre_status=d["centre_status"], region_code=d["region_code"],
        received_at=_parse_time(d["received_at"]), due_at=_opt_parse(d["due_at"]),
        closed_at=_opt_parse(d["closed_at"]),
        parties=tuple(PartyRecord(role=p["role"], name=p["name"], kind=PartyKind(p["kind"]),
                                  id_number=p["id_number"], phone=p["phone"],
                                  org_code=p["org_code"], address=p["address"])
                      for p in d["parties"]),
        events=tuple(EventRecord(at=_parse_time(e["at"]), action=e["action"], note=e["note"])
                     for e in d["events"]),
        links=tuple(LinkRecord(LinkRelation(k["relation"]), Centre(k["centre"]), k["native_id"])
                    for k in d["links"]),
        extra=_dec({"$map": d["extra"]}),
    )


def dumps(record: MatterRecord) -> bytes:
    """Raises :class:`CodecError` for an ``extra`` value of a type it does not know."""
    envelope = {"v": VERSION, "record": _record(record)}
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()


def loads(raw: bytes | str) -> MatterRecord:
    """Raises :class:`CodecError` for another version or a malformed payload."""
    try:
        envelope = json.loads(raw)
        if not isinstance(envelope, dict) or envelope.get("v") != VERSION:
            raise CodecError("another codec version")
        return _from(envelope["record"])
    except CodecError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CodecError(f"malformed record: {type(exc).__name__}") from exc
