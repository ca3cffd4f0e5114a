"""The dispatcher's view end to end: statistics (push-down and gateway-computed
agree, and match the world), jurisdiction in every count, overdue and escalations."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from onedoor.model import CST, Centre
from onedoor.periods import DeadlineUnknown, last_day
from onedoor.regions import get_region
from sandbox.people import village_table
from tests.e2e.conftest import OneDoor

pytestmark = pytest.mark.asyncio(loop_scope="module")

STATS = """
query S($region: String!, $from: Date!, $to: Date!, $by: [StatisticsDimension!], $push: Boolean!) {
  statistics(regionCode: $region, from: $from, to: $to, groupBy: $by, pushDown: $push) {
    regionCode regionName
    totals { ...F }
    groups { centre category regionCode month figures { ...F } }
    sources { centre source records }
    missingCentres
  }
}
fragment F on StatisticsFigures {
  registered accepted forwarded assigned closed closedOnTime mediations agreements escalated repeatPetitions
  acceptanceRate transferRate forwardingRate assignmentRate closureRate onTimeClosureRate mediationSuccessRate
}"""
ALL = ["CENTRE", "CATEGORY", "REGION", "MONTH"]


def _span(onedoor: OneDoor, days: int = 400) -> tuple[str, str]:
    today = onedoor.sandbox.world.now.date()
    return (today - dt.timedelta(days=days)).isoformat(), today.isoformat()


def _world_registered(onedoor: OneDoor, centre: Centre, prefix: str, start: str, end: str) -> int:
    world = onedoor.sandbox.world
    lo = int(dt.datetime.combine(dt.date.fromisoformat(start), dt.time(0), CST).timestamp())
    hi = int(dt.datetime.combine(dt.date.fromisoformat(end), dt.time(23, 59, 59), CST).timestamp())
    return len(world.search(centre, prefixes=[prefix], received_from=lo, received_to=hi))


async def _stats(onedoor: OneDoor, token: str, region: str, push: bool, by: list[str] | None = None,
                 days: int = 400) -> dict[str, Any]:
    start, end = _span(onedoor, days)
    body = await onedoor.query(STATS, token, region=region, **{"from": start}, to=end, by=by, push=push)
    assert "errors" not in body, body["errors"]
    result: dict[str, Any] = body["data"]["statistics"]
    return result


async def test_push_down_and_gateway_agree(onedoor: OneDoor) -> None:
    token = onedoor.token("analyst")
    await onedoor.reset_stats()
    pushed = await _stats(onedoor, token, "630000", True, ALL)
    calls = await onedoor.stats()
    assert calls["MEDIATION"].get("GET /api/stats/summary") == 1
    assert calls["LITIGATION"].get("GET /cases:summarize") == 1
    assert "GET /api/cases" not in calls["MEDIATION"]
    computed = await _stats(onedoor, token, "630000", False, ALL)
    sources = {s["centre"]: s["source"] for s in pushed["sources"]}
    assert sources == {"MEDIATION": "PUSH_DOWN", "LEGAL_SERVICES": "GATEWAY", "PETITIONS": "GATEWAY",
                       "LITIGATION": "PUSH_DOWN", "GOVERNANCE": "GATEWAY"}
    assert {s["source"] for s in computed["sources"]} == {"GATEWAY"}
    assert pushed["totals"] == computed["totals"]
    assert pushed["groups"] == computed["groups"]
    assert pushed["totals"]["registered"] > 100 and pushed["totals"]["agreements"] > 0
    assert pushed["totals"]["mediations"] > 0 and pushed["totals"]["escalated"] > 0


async def test_counts_match_the_world_and_respect_jurisdiction(onedoor: OneDoor) -> None:
    start, end = _span(onedoor)
    local = onedoor.token("analyst", region="632300")
    for push in (True, False):
        result = await _stats(onedoor, local, "632300", push, ["CENTRE"])
        by_centre = {g["centre"]: g["figures"]["registered"] for g in result["groups"]}
        for centre in Centre:
            assert by_centre.get(centre.value, 0) == _world_registered(onedoor, centre, "6323", start, end)
        regions = await _stats(onedoor, local, "632300", push, ["REGION"])
        assert regions["groups"] and all(g["regionCode"].startswith("6323") for g in regions["groups"])
        assert sum(g["figures"]["registered"] for g in regions["groups"]) == result["totals"]["registered"]
    # Qinghai as a whole is wider than a Huangnan analyst's jurisdiction: refused, not zeros.
    body = await onedoor.query(STATS, local, region="630000", **{"from": start}, to=end, by=None, push=True)
    assert body["data"] is None or body["data"]["statistics"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # Without stats:read nothing at all.
    body = await onedoor.query(STATS, onedoor.token("caseworker"), region="632300", **{"from": start}, to=end,
                               by=None, push=True)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHORIZED_FIELD_OR_TYPE"


OVERDUE = """
query O($region: String!, $asOf: DateTime) {
  overdue(regionCode: $region, asOf: $asOf) {
    id centre reference category regionCode deadlineKind dueAt daysOverdue statute statuteEn dayCount extensionDays
  }
}"""


async def test_overdue_mediations_match_the_world(onedoor: OneDoor) -> None:
    world = onedoor.sandbox.world
    body = await onedoor.query(OVERDUE, onedoor.token("analyst", region="632300"), region="632300",
                               asOf=world.now.isoformat())
    assert "errors" not in body, body
    items = body["data"]["overdue"]
    kinds = {i["deadlineKind"] for i in items}
    assert {"MEDIATION", "PETITION_HANDLING"} <= kinds
    assert all(i["regionCode"].startswith("6323") for i in items)
    assert [i["daysOverdue"] for i in items] == sorted((i["daysOverdue"] for i in items), reverse=True)
    petition = next(i for i in items if i["deadlineKind"] == "PETITION_HANDLING")
    assert petition["statute"] == "信访工作条例 第三十四条" and petition["extensionDays"] in (0, 30)
    assert petition["dayCount"] == "CALENDAR_DAYS"
    # Ground truth: open mediations past one month (民法典 Art.201-203: start day not counted, a month
    # to the corresponding day, a last day on a rest day moved past it).
    cols, codes = world.cols, village_table()[0]
    rows = world.rows(Centre.MEDIATION)
    today = world.now.date()
    expected = set()
    for row in rows:
        if cols.closed[row] >= 0 or not codes[int(cols.village[row])].startswith("6323"):
            continue
        received = dt.datetime.fromtimestamp(int(cols.recv[row]), CST).date()
        try:
            last = last_day(received, months=1)
        except DeadlineUnknown:
            continue
        if (today - last).days > 0:
            expected.add(world.native_id(row))
    got = {i["reference"] for i in items if i["deadlineKind"] == "MEDIATION"}
    assert got == expected


ESCALATIONS = """
query E($region: String!, $from: Date!, $to: Date!) {
  escalations(regionCode: $region, from: $from, to: $to) {
    reachedPetition reachedCourt days steps { centre reference status regionCode }
  }
}"""


async def test_escalation_chains(onedoor: OneDoor) -> None:
    start, end = _span(onedoor, 700)
    body = await onedoor.query(ESCALATIONS, onedoor.token("analyst"), region="630000", **{"from": start}, to=end)
    assert "errors" not in body, body
    chains = body["data"]["escalations"]
    assert any(c["reachedPetition"] for c in chains) and any(c["reachedCourt"] for c in chains)
    # A judicial confirmation (民特) confirms a successful agreement: it is not "reached court";
    # a lawsuit after a failed mediation (调解不成起诉, a terminated mediation first) is.
    to_court = [c for c in chains if c["steps"][-1]["centre"] == "LITIGATION"]
    assert all(c["reachedCourt"] == (c["steps"][0]["status"] == "TERMINATED") for c in to_court)
    first = {c["steps"][0]["centre"] for c in chains}
    assert first <= {"GOVERNANCE", "MEDIATION"}
    assert all(len(c["steps"]) >= 2 and c["days"] >= 0 for c in chains)
    assert all(s["regionCode"].startswith("63") for c in chains for s in c["steps"])
    assert get_region("630000").name == "青海省"
