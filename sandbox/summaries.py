"""Summary endpoints of the centres that offer one: MEDIATION and LITIGATION.

Real case systems often have a statistics report (统计报表) beside their case
list; the governance centre's gateway pushes aggregation down to it instead of
paging every case. Each answers in its own centre's native style (camelCase
codes and ``YYYY-MM-DD HH:MM:SS`` for MEDIATION, epoch milliseconds and
``buckets`` for LITIGATION) and counts from the same columns its list API
renders, so a summary always equals what paging the list would give.

Groups are the finest the gateway needs: dispute category × registration month
(CST) × region prefix of ``regionLength`` / ``regionDigits`` digits.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np
import numpy.typing as npt
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from onedoor.model import CATEGORIES, CST, Centre
from sandbox.common import BadRequest, csv, int_param
from sandbox.lifecycle import CASE_TYPES, DAY
from sandbox.people import village_table
from sandbox.world import World

__all__ = ["litigation_summary", "mediation_summary"]

Endpoint = Callable[[Request], Awaitable[Response]]
_CST = 8 * 3600


def _months(recv: npt.NDArray[np.int64]) -> list[str]:
    days = (recv + _CST) // DAY
    return [str(d)[:7] for d in days.astype("datetime64[D]")]


def _group(world: World, rows: npt.NDArray[np.int64], digits: int,
           flags: dict[str, npt.NDArray[np.bool_]], extra: Callable[[int], tuple[Any, ...]] = lambda r: (),
           ) -> dict[tuple[Any, ...], Counter[str]]:
    """Count ``flags`` (one boolean column per count) by (category, month, region, *extra)."""
    cols, codes = world.cols, village_table()[0]
    months = _months(cols.recv[rows])
    out: dict[tuple[Any, ...], Counter[str]] = {}
    for i, row in enumerate(rows.tolist()):
        key = (int(cols.category[row]), months[i], codes[int(cols.village[row])][:digits], *extra(row))
        bucket = out.setdefault(key, Counter())
        for name, column in flags.items():
            bucket[name] += int(column[i])
    return out


def _time(raw: str | None, name: str) -> int | None:
    """MEDIATION's own time format, ``2024-01-01 00:00:00`` CST."""
    if raw is None:
        return None
    try:
        return int(dt.datetime.strptime(raw, "%Y-%m-%d %H:%M:%S").replace(tzinfo=CST).timestamp())
    except ValueError:
        raise BadRequest(f"{name} must look like 2024-01-01 00:00:00") from None


def mediation_summary(world: World, api_key: str) -> Endpoint:
    """``GET /api/stats/summary?regionCodes=6323&acceptFrom=…&acceptTo=…&regionLength=6``."""
    async def summary(request: Request) -> Response:
        if request.headers.get("x-api-key") != api_key:
            return JSONResponse({"code": "UNAUTHORIZED"}, status_code=401)
        q = request.query_params
        try:
            digits = int_param(request, "regionLength", 6, 2, 12)
            rows = world.search(Centre.MEDIATION, prefixes=csv(q.get("regionCodes")),
                                received_from=_time(q.get("acceptFrom"), "acceptFrom"),
                                received_to=_time(q.get("acceptTo"), "acceptTo"))
        except BadRequest as exc:
            return JSONResponse({"code": "BAD_REQUEST", "message": str(exc)}, status_code=400)
        cols = world.cols
        closed = cols.closed[rows] >= 0
        flags = {"caseCount": np.ones(len(rows), bool), "acceptCount": np.ones(len(rows), bool),
                 "finishCount": closed, "finishOnTimeCount": closed & ~cols.overdue[rows],
                 "overdueOpenCount": ~closed & cols.overdue[rows],  # 超期未结, at the world's now
                 "routedCount": cols.status[rows] == 3,  # FLLZ 分类流转
                 "agreementCount": cols.status[rows] == 5,  # AJSL 案结事了
                 "escalatedCount": (cols.story[rows] == 2) & (cols.side[rows] == 0)}  # → 信访
        groups = _group(world, rows, digits, flags)
        items = [{"disputeTypeCode": f"{cat + 1:02d}", "month": month, "regionCode": region,
                  **{name: counts[name] for name in flags}}
                 for (cat, month, region), counts in sorted(groups.items())]
        return JSONResponse({"regionCodes": q.get("regionCodes"), "caseCount": len(rows),
                             "items": items})

    return summary


def litigation_summary(world: World, guard: Callable[[Request], Awaitable[Response | None]]) -> Endpoint:
    """``GET /cases:summarize?regionPrefix=6323&filedFrom=<ms>&filedTo=<ms>&regionDigits=6``."""

    async def summarize(request: Request) -> Response:
        if (refused := await guard(request)) is not None:
            return refused
        q = request.query_params
        try:
            digits = int_param(request, "regionDigits", 6, 2, 12)
            low = int_param(request, "filedFrom", -1, -(10**15), 10**15)
            high = int_param(request, "filedTo", -1, -(10**15), 10**15)
            rows = world.search(Centre.LITIGATION, prefixes=q.getlist("regionPrefix") or None,
                                received_from=-(-low // 1000) if "filedFrom" in q else None,
                                received_to=high // 1000 if "filedTo" in q else None)
        except BadRequest as exc:
            return JSONResponse({"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": str(exc)}},
                                status_code=400)
        cols = world.cols
        accepted = cols.acc[rows] >= 0
        closed = cols.closed[rows] >= 0
        linked = (cols.story[rows] == 4) & (cols.side[rows] == 1)  # 诉前调 linked to a mediation case
        flags = {"filed": np.ones(len(rows), bool), "accepted": accepted, "closed": closed,
                 "closedWithinLimit": closed & ~cols.overdue[rows],
                 "openPastLimit": ~closed & cols.overdue[rows],
                 "mediated": accepted & (cols.status[rows] == 3),  # MEDIATED 调解结案
                 "acceptedLinked": accepted & linked, "mediatedLinked": accepted & linked & (cols.status[rows] == 3)}
        groups = _group(world, rows, digits, flags, lambda row: (int(cols.sub[row]),))
        buckets = [{"cause": CATEGORIES[cat], "month": month, "regionPrefix": region,
                    "caseType": CASE_TYPES[sub], **{name: counts[name] for name in flags}}
                   for (cat, month, region, sub), counts in sorted(groups.items())]
        return JSONResponse({"buckets": buckets, "totalSize": len(rows)})

    return summarize
