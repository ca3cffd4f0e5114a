"""Push-down statistics for the centres whose systems offer a summary endpoint.

MEDIATION (``GET /api/stats/summary``) and LITIGATION (``GET /cases:summarize``)
aggregate on their side; the classes here add :meth:`summarize` to their
connectors (the :class:`~connectors.base.SummaryConnector` protocol) and map
each native answer to :class:`SummaryCell` counts named as ``schema.kpi.Figures``.
The centre modules stay untouched; the registry picks these subclasses.
Request building and payload mapping are pure functions, as elsewhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from onedoor.model import CATEGORIES, Centre

from ._common import as_dict, as_list, decoding, json_body, req_int, req_str, to_cst
from .base import SummaryCell, SummaryQuery
from .litigation import LitigationConnector
from .mediation import MediationConnector

__all__ = [
    "LitigationSummaries", "MediationSummaries", "litigation_params", "mediation_params",
    "parse_litigation", "parse_mediation",
]

_CODES = {f"{i:02d}": name for i, name in enumerate(CATEGORIES, start=1)}
_MEDIATION_COUNTS = {"caseCount": "registered", "acceptCount": "accepted", "finishCount": "closed",
                     "finishOnTimeCount": "closed_on_time", "overdueOpenCount": "overdue_open",
                     "routedCount": "transferred", "agreementCount": "agreements", "escalatedCount": "escalated"}


def mediation_params(q: SummaryQuery) -> dict[str, str]:
    fmt = "%Y-%m-%d %H:%M:%S"
    return {"regionCodes": q.region_prefix, "acceptFrom": to_cst(q.received_from).strftime(fmt),
            "acceptTo": to_cst(q.received_to).strftime(fmt), "regionLength": str(q.region_digits)}


def parse_mediation(payload: Any) -> list[SummaryCell]:
    """Every case taken on is a mediation (registration is acceptance there)."""
    with decoding(Centre.MEDIATION, "summary"):
        cells = []
        for raw in as_list(as_dict(payload)["items"], "items"):
            item = as_dict(raw, "item")
            counts = {ours: req_int(item, theirs) for theirs, ours in _MEDIATION_COUNTS.items()}
            counts["mediations"] = counts["accepted"]
            counts["transfer_base"] = counts["registered"]  # the mediation centre records transfers
            cells.append(SummaryCell(_CODES.get(req_str(item, "disputeTypeCode"), "其他"),
                                     req_str(item, "month"), req_str(item, "regionCode"), counts))
        return cells


def _ms(value: dt.datetime) -> str:
    return str(int(value.timestamp() * 1000))


def litigation_params(q: SummaryQuery) -> list[tuple[str, str]]:
    return [("regionPrefix", q.region_prefix), ("filedFrom", _ms(q.received_from)),
            ("filedTo", _ms(q.received_to)), ("regionDigits", str(q.region_digits))]


def parse_litigation(payload: Any) -> list[SummaryCell]:
    """Buckets also split by case type: only 诉前调 (pre-litigation mediation) counts
    toward mediations and agreements; the court's other settlements are judgments' kin.
    A 诉前调 case linked to the mediation centre's case is that case's dispute, counted
    there (``acceptedLinked``/``mediatedLinked`` are left out: one dispute, one mediation)."""
    with decoding(Centre.LITIGATION, "summary"):
        merged: dict[tuple[str, str, str], dict[str, int]] = {}
        for raw in as_list(as_dict(payload)["buckets"], "buckets"):
            b = as_dict(raw, "bucket")
            cause = req_str(b, "cause")
            key = (cause if cause in CATEGORIES else "其他", req_str(b, "month"), req_str(b, "regionPrefix"))
            counts = merged.setdefault(key, {})
            pre = req_str(b, "caseType") == "诉前调"
            for theirs, ours in (("filed", "registered"), ("accepted", "accepted"), ("closed", "closed"),
                                 ("closedWithinLimit", "closed_on_time"), ("openPastLimit", "overdue_open")):
                counts[ours] = counts.get(ours, 0) + req_int(b, theirs)
            mediations = req_int(b, "accepted") - req_int(b, "acceptedLinked") if pre else 0
            agreements = req_int(b, "mediated") - req_int(b, "mediatedLinked") if pre else 0
            counts["mediations"] = counts.get("mediations", 0) + mediations
            counts["agreements"] = counts.get("agreements", 0) + agreements
        return [SummaryCell(c, m, r, counts) for (c, m, r), counts in merged.items()]


class MediationSummaries(MediationConnector):
    """:class:`MediationConnector` plus the centre's summary report."""

    async def summarize(self, query: SummaryQuery) -> Sequence[SummaryCell]:
        async with self.http.budget():
            response = await self.http.request("GET", "/api/stats/summary", params=mediation_params(query))
        return parse_mediation(json_body(Centre.MEDIATION, response))


class LitigationSummaries(LitigationConnector):
    """:class:`LitigationConnector` plus the court's ``cases:summarize``."""

    async def summarize(self, query: SummaryQuery) -> Sequence[SummaryCell]:
        async with self.http.budget():
            response = await self.http.request("GET", "/cases:summarize", params=litigation_params(query))
        return parse_litigation(json_body(Centre.LITIGATION, response))
