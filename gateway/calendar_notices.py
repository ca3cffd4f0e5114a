"""State Council holiday notices the installed calendar does not have yet.

Each year's notice (国务院办公厅关于某年部分节假日安排的通知) comes out in
November or December; until the ``chinese-calendar`` package ships it, every
deadline ending in that year is reported as unknown. An operator copies the
notice into a TOML file named by ``[calendar] notices``::

    [2027]
    # every day off, the weekends inside a holiday included
    days_off = ["2027-01-01", "2027-02-06", "2027-02-07", …]
    # weekends made working days (调休)
    workdays = ["2027-02-14"]

It is read once at start; a malformed file stops the start with its reason.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Any

from onedoor import periods

__all__ = ["NoticeError", "load_notices", "read_notices"]


class NoticeError(ValueError):
    pass


def read_notices(path: Path) -> dict[int, tuple[list[dt.date], list[dt.date]]]:
    """The notices in ``path`` by year; raises :class:`NoticeError` naming what is wrong."""
    try:
        raw: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise NoticeError(f"holiday notices {path}: {exc}") from exc
    notices: dict[int, tuple[list[dt.date], list[dt.date]]] = {}
    for key, table in raw.items():
        if not (key.isascii() and key.isdigit() and len(key) == 4) or not isinstance(table, dict):
            raise NoticeError(f"holiday notices {path}: [{key}] is not a year table")
        unknown = set(table) - {"days_off", "workdays"}
        if unknown:
            raise NoticeError(f"holiday notices {path}: [{key}] has unknown keys {sorted(unknown)}")
        days = []
        for name in ("days_off", "workdays"):
            values = table.get(name, [])
            try:
                days.append([v if isinstance(v, dt.date) else dt.date.fromisoformat(v) for v in values])
            except (TypeError, ValueError) as exc:
                raise NoticeError(f"holiday notices {path}: [{key}] {name}: {exc}") from exc
        if not days[0]:
            raise NoticeError(f"holiday notices {path}: [{key}] lists no days off")
        notices[int(key)] = (days[0], days[1])
    return notices


def load_notices(path: Path | None) -> list[int]:
    """Add every notice in ``path`` to the calendar; the years added."""
    if path is None:
        return []
    notices = read_notices(path)
    for year, (days_off, workdays) in sorted(notices.items()):
        try:
            periods.add_notice(year, days_off, workdays)
        except ValueError as exc:
            raise NoticeError(f"holiday notices {path}: {exc}") from exc
    return sorted(notices)
