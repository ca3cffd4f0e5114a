"""Issue 12: every figure of ``statistics``, recomputed from the centres' own APIs, equals
what the gateway answers — pushed down to the centres' summaries and counted in the gateway.

The recomputation here does not use :mod:`schema.kpi` (nor :mod:`onedoor.deadlines`): it pages
each centre's native list over HTTP (``/api/cases``, ``/v1/applications``, ``/xf/query``,
``/cases``, ``gridEvents``) for a region and period, maps each payload with the connector's pure
parse function (canonical IDs, categories, CST times), and counts every figure by the written
definitions (docs/kpis.md, DOMAIN.md) from the centre's *native* codes. Whether a deadline was
missed is the centre's own word: its list's overdue filter (``overdue=1``, ``cq=1``, …), which
the sandbox computes from its own lifecycle columns (sandbox/lifecycle.py; only the calendar,
onedoor.periods, is shared with the gateway).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import itertools
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element

import httpx
import pytest
import pytest_asyncio
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from connectors import governance, legal, litigation, mediation, petitions
from connectors.settings import DEMO_LEGAL_CLIENT_ID, DEMO_LEGAL_CLIENT_SECRET
from onedoor.model import CST, Centre, MatterRecord
from sandbox.mediation import DEMO_API_KEY
from sandbox.runner import Sandbox

from .conftest import Gateway

pytestmark = pytest.mark.asyncio(loop_scope="module")

COUNTS = ("registered", "accepted", "forwarded", "assigned", "transferred", "transferBase", "closed",
          "closedOnTime", "overdueOpen", "mediations", "agreements", "escalated", "repeatPetitions")
RATES = ("acceptanceRate", "transferRate", "forwardingRate", "assignmentRate", "routingRate", "closureRate",
         "onTimeClosureRate", "mediationSuccessRate")
# The groupings asked: the totals, each dimension alone, centre × month and all four at once (the
# finest; every other grouping is a sum of it, by the same rollup on both paths).
GROUPINGS = [[], ["CENTRE"], ["CATEGORY"], ["REGION"], ["MONTH"], ["CENTRE", "MONTH"],
             ["CENTRE", "CATEGORY", "REGION", "MONTH"]]
STATISTICS = """query($region: String!, $from: Date!, $to: Date!, $by: [StatisticsDimension!], $push: Boolean!) {
  statistics(regionCode: $region, from: $from, to: $to, groupBy: $by, pushDown: $push) {
    missingCentres sources { centre source records }
    totals { ...F }
    groups { centre category regionCode month figures { ...F } } } }
fragment F on StatisticsFigures { @COUNTS @RATES }
""".replace("@COUNTS", " ".join(COUNTS)).replace("@RATES", " ".join(RATES))


# ---- the centres' own APIs -------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One matter as its centre serves it: the native payload, its mapping, the centre's flag."""

    record: MatterRecord
    native: Any  # the JSON object, or the <xfjl> element (PETITIONS)
    overdue: bool  # listed by the centre's own overdue filter


@dataclass
class Centres:
    """Plain HTTP to each centre, in its own dialect (sandbox/API.md)."""

    sb: Sandbox
    http: httpx.AsyncClient
    token: str  # LEGAL_SERVICES' bearer token (client credentials at the identity provider)

    def url(self, centre: Centre, path: str) -> str:
        return self.sb.urls[centre] + path

    async def get(self, centre: Centre, path: str, params: Any, headers: Mapping[str, str]) -> httpx.Response:
        while True:  # LITIGATION's token bucket answers 429 with Retry-After
            response = await self.http.get(self.url(centre, path), params=params, headers=headers)
            if response.status_code != 429:
                response.raise_for_status()
                return response
            await asyncio.sleep(float(response.headers.get("retry-after", "1")))

    async def mediation(self, prefix: str, start: dt.datetime, end: dt.datetime,
                        overdue: bool) -> list[tuple[Any, MatterRecord]]:
        fmt = "%Y-%m-%d %H:%M:%S"
        out: list[tuple[Any, MatterRecord]] = []
        for page in itertools.count(1):
            params = {"regionCodes": prefix, "acceptFrom": start.strftime(fmt), "acceptTo": end.strftime(fmt),
                      "page": str(page), "pageSize": "100", **({"overdue": "1"} if overdue else {})}
            body = (await self.get(Centre.MEDIATION, "/api/cases", params, {"X-Api-Key": DEMO_API_KEY})).json()
            out += [(raw, mediation.parse_case(raw)) for raw in body["items"]]
            if len(out) >= body["total"] or not body["items"]:
                assert len(out) == body["total"]
                return out
        raise AssertionError("unreachable")

    async def legal(self, prefix: str, start: dt.datetime, end: dt.datetime,
                    overdue: bool) -> list[tuple[Any, MatterRecord]]:
        out: list[tuple[Any, MatterRecord]] = []
        cursor = None
        while True:
            params = [("region_prefix", prefix), ("submitted_from", start.isoformat()),
                      ("submitted_to", end.isoformat()), ("limit", "100")]
            params += [("overdue", "true")] if overdue else []
            params += [("cursor", cursor)] if cursor else []
            body = (await self.get(Centre.LEGAL_SERVICES, "/v1/applications", params,
                                   {"Authorization": f"Bearer {self.token}"})).json()
            out += [(raw, legal.parse_application(raw)) for raw in body["data"]]
            cursor = body["next_cursor"]
            if not cursor:
                assert len(out) == body["total_count"]
                return out

    async def petitions(self, prefix: str, start: dt.datetime, end: dt.datetime,
                        overdue: bool) -> list[tuple[Any, MatterRecord]]:
        out: list[tuple[Any, MatterRecord]] = []
        while True:
            params = [("qhdm", prefix), ("ksrq", start.strftime("%Y%m%d")), ("kssj", start.strftime("%H%M%S")),
                      ("jsrq", end.strftime("%Y%m%d")), ("jssj", end.strftime("%H%M%S")),
                      ("start", str(len(out))), ("rows", "50")]
            params += [("cq", "1")] if overdue else []
            root = petitions.parse_xml((await self.get(Centre.PETITIONS, "/xf/query", params, {})).content)
            items = root.findall("xfjl")
            out += [(x, petitions.parse_record(x)) for x in items]
            total = int(root.findtext("total") or "0")
            if len(out) >= total or not items:
                assert len(out) == total
                return out

    async def litigation(self, prefix: str, start: dt.datetime, end: dt.datetime,
                         overdue: bool) -> list[tuple[Any, MatterRecord]]:
        out: list[tuple[Any, MatterRecord]] = []
        token = None
        while True:
            params = [("regionPrefix", prefix), ("filedFrom", str(int(start.timestamp() * 1000))),
                      ("filedTo", str(int(end.timestamp() * 1000))), ("pageSize", "100")]
            params += [("overdue", "true")] if overdue else []
            params += [("pageToken", token)] if token else []
            body = (await self.get(Centre.LITIGATION, "/cases", params, {"X-Client-Id": "kpi-recomputed"})).json()
            out += [(raw, litigation.parse_case(raw)) for raw in body["cases"]]
            token = body.get("nextPageToken")
            if not token:
                assert len(out) == body["totalSize"]
                return out

    async def grid(self, prefix: str, start: dt.datetime, end: dt.datetime,
                   overdue: bool) -> list[tuple[Any, MatterRecord]]:
        query = """query($p: [String!], $from: String, $to: String, $overdue: Boolean, $offset: Int) {
          gridEvents(regionPrefixes: $p, reportedFrom: $from, reportedTo: $to, overdue: $overdue,
                     offset: $offset, limit: 100) {
            totalCount items { eventNo title eventType status regionCode gridCode reporter reportedAt dueAt
              closedAt parties { name idNumber phone role } steps { at step note } referrals { kind refNo system } }
          } }"""
        out: list[tuple[Any, MatterRecord]] = []
        while True:
            variables = {"p": [prefix], "from": start.isoformat(), "to": end.isoformat(), "offset": len(out),
                         "overdue": True if overdue else None}
            response = await self.http.post(self.url(Centre.GOVERNANCE, "/graphql"),
                                            json={"query": query, "variables": variables})
            response.raise_for_status()
            page = response.json()["data"]["gridEvents"]
            out += [(raw, governance.parse_event(raw)) for raw in page["items"]]
            if len(out) >= page["totalCount"] or not page["items"]:
                assert len(out) == page["totalCount"]
                return out

    async def rows(self, centre: Centre, prefix: str, start: dt.datetime, end: dt.datetime) -> list[Row]:
        fetch: Callable[..., Any] = {
            Centre.MEDIATION: self.mediation, Centre.LEGAL_SERVICES: self.legal, Centre.PETITIONS: self.petitions,
            Centre.LITIGATION: self.litigation, Centre.GOVERNANCE: self.grid}[centre]
        every, flagged = await fetch(prefix, start, end, False), await fetch(prefix, start, end, True)
        late = {r.native_id for _, r in flagged}
        ids = [r.native_id for _, r in every]
        assert len(set(ids)) == len(ids) and late <= set(ids), centre  # pages neither repeat nor skip
        for _, r in every:  # the centre's own filters did what was asked
            assert r.region_code.startswith(prefix) and start <= r.received_at <= end, r.native_id
        return [Row(r, raw, r.native_id in late) for raw, r in every]


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def centres(sb: Sandbox) -> AsyncIterator[Centres]:
    async with httpx.AsyncClient(timeout=30) as http:
        token = (await http.post(sb.idp_url + "/oauth/token", auth=(DEMO_LEGAL_CLIENT_ID, DEMO_LEGAL_CLIENT_SECRET),
                                 data={"grant_type": "client_credentials", "scope": "legal.read"})).json()
        yield Centres(sb, http, token["access_token"])


@pytest.fixture(scope="module")
def analyst(gateway: Gateway) -> Gateway:
    """An analyst of the seed provinces (Qinghai, Xinjiang, Gansu, Hunan) and everything in them."""
    return dataclasses.replace(gateway, regions=("63", "65", "62", "43"))


# ---- the figures, by the written definitions -------------------------------------------


def _xml(x: Element, tag: str) -> str:
    return (x.findtext(tag) or "").strip()


def _steps(x: Element) -> set[str]:
    return {_xml(jl, "dz") for jl in x.findall("lcjl/jl")}


def contribution(row: Row) -> Counter[str]:
    """What one matter adds to each count (``repeatPetitions`` needs its peers: :func:`repeats`)."""
    centre, n = row.record.centre, row.native
    f: Counter[str] = Counter(registered=1)
    if centre is Centre.MEDIATION:  # 登记受理: registration is acceptance; a mediation taken on
        status = n["statusCode"]
        accepted, concluded = True, status in ("AJSL", "ZZ")  # 案结事了, 终止
        f["mediations"] = 1
        f["agreements"] = int(n["agreementReached"] is True)  # 人民调解法 Art.28-31
        f["transferred"] = int(status == "FLLZ")  # 分类流转
        f["escalated"] = int(any(x["system"] == "XF" and x["relation"] == "ESCALATED" for x in n["related"]))
        f["transferBase"] = 1
    elif centre is Centre.LEGAL_SERVICES:  # granted (approved); refused or still under review: not
        accepted = any(h["event"] == "approved" for h in n["history"])
        concluded = n["status"] in ("closed", "rejected", "terminated")
    elif centre is Centre.PETITIONS:  # 受理, 转送 or 交办 (条例 Art.22); 不予受理 is a refusal
        status, steps = _xml(n, "zt"), _steps(n)
        accepted = bool(_xml(n, "slrq")) and status != "07"
        concluded = status in ("06", "07")  # 办结; a review (08 复查中, 09 复核中) reopens it
        f["forwarded"] = int(status == "03" or "转送" in steps)
        f["assigned"] = int(status == "04" or "交办" in steps)
        f["transferBase"] = 1
    elif centre is Centre.LITIGATION:  # accepted by the court (FILED: not yet)
        state = n["state"]
        accepted = state != "FILED"
        concluded = state in ("MEDIATED", "JUDGED", "CLOSED", "WITHDRAWN", "DISMISSED")
        linked = any(x["kind"] == "PRE_LITIGATION_MEDIATION" for x in n["related"])
        if n["caseType"] == "诉前调" and not linked and accepted:  # one dispute, one mediation
            f["mediations"] = 1
            f["agreements"] = int(state == "MEDIATED")  # 调解结案
    else:  # grid: opened (立案) and on, not cancelled (注销)
        status = n["status"]
        accepted = status in ("OPENED", "DISPATCHED", "HANDLING", "FEEDBACK", "CLOSED", "EVALUATED")
        concluded = status in ("CANCELLED", "CLOSED", "EVALUATED")
        f["escalated"] = int(any(x["kind"] == "PETITION" for x in n["referrals"]))
    f["accepted"] = int(accepted)
    f["closed"] = int(accepted and concluded)
    f["closedOnTime"] = int(accepted and concluded and not row.overdue)
    f["overdueOpen"] = int(not concluded and row.overdue)
    return f


def repeats(rows: Iterable[Row]) -> set[str]:
    """Petitions whose petitioner (canonical ID) petitioned on the same category earlier in the period."""
    seen: set[tuple[str, str]] = set()
    out = set()
    for row in sorted(rows, key=lambda r: (r.record.received_at, r.record.native_id)):
        who = next((p.id_number for p in row.record.parties if p.role == "PETITIONER" and p.id_number), None)
        if who is None:
            continue
        if (who, row.record.category) in seen:
            out.add(row.record.native_id)
        seen.add((who, row.record.category))
    return out


def child(code: str, region: str) -> str:
    """The division directly below ``region`` (a province, prefecture or county) holding ``code``."""
    if region.endswith("0000"):
        return code[:4] + "00"
    if region.endswith("00"):
        return code[:6]
    return code[:9] + "000"


def rate(num: int, den: int) -> float | None:
    return None if den == 0 else round(num / den, 4)


def with_rates(c: Counter[str]) -> dict[str, Any]:
    out: dict[str, Any] = {name: c[name] for name in COUNTS}
    transfers = c["forwarded"] + c["assigned"] + c["transferred"]
    out |= {"acceptanceRate": rate(c["accepted"], c["registered"]),
            "transferRate": rate(transfers, c["transferBase"]),
            "forwardingRate": rate(c["forwarded"], c["transferBase"]),
            "assignmentRate": rate(c["assigned"], c["transferBase"]),
            "routingRate": rate(c["transferred"], c["transferBase"]),
            "closureRate": rate(c["closed"], c["accepted"]),
            "onTimeClosureRate": rate(c["closedOnTime"], c["closed"] + c["overdueOpen"]),
            "mediationSuccessRate": rate(c["agreements"], c["mediations"])}
    return out


@dataclass
class Recomputed:
    region: str
    rows: dict[Centre, list[Row]]

    def grouped(self, by: list[str]) -> dict[tuple[str | None, ...], dict[str, Any]]:
        """(centre, category, regionCode, month) → figures; a dimension not grouped by is None."""
        again = repeats(self.rows[Centre.PETITIONS])
        groups: dict[tuple[str | None, ...], Counter[str]] = {}
        for centre, rows in self.rows.items():
            for row in rows:
                r = row.record
                key = (centre.name if "CENTRE" in by else None, r.category if "CATEGORY" in by else None,
                       child(r.region_code, self.region) if "REGION" in by else None,
                       r.received_at.astimezone(CST).strftime("%Y-%m") if "MONTH" in by else None)
                f = contribution(row)
                f["repeatPetitions"] = int(centre is Centre.PETITIONS and r.native_id in again)
                groups.setdefault(key, Counter()).update(f)
        return {key: with_rates(c) for key, c in groups.items()}


async def recompute(centres: Centres, region: str, start: dt.date, end: dt.date) -> Recomputed:
    prefix = region[:2] if region.endswith("0000") else region[:4] if region.endswith("00") else region
    low = dt.datetime.combine(start, dt.time(0), CST)
    high = dt.datetime.combine(end, dt.time(23, 59, 59), CST)
    rows = {c: await centres.rows(c, prefix, low, high) for c in Centre}
    return Recomputed(region, rows)


# ---- the comparison --------------------------------------------------------------------


def differences(answered: Mapping[str, Any], recomputed: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """name → (the gateway's, the recomputed) for every figure that differs."""
    assert answered.keys() == recomputed.keys()
    return {name: (answered[name], value) for name, value in recomputed.items() if answered[name] != value}


async def compare(gw: Gateway, mine: Recomputed, start: dt.date, end: dt.date,
                  groupings: list[list[str]]) -> dict[str, int]:
    """Each grouping, both paths: the gateway's figures equal the recomputed ones. Returns the totals."""
    totals = mine.grouped([])[(None, None, None, None)] if any(mine.rows.values()) else with_rates(Counter())
    for by, push in itertools.product(groupings, (True, False)):
        stats = (await gw.run(STATISTICS, region=mine.region, by=by, push=push, **{
            "from": start.isoformat(), "to": end.isoformat()}))["statistics"]
        assert stats["missingCentres"] == []
        sources = {s["centre"]: s["source"] for s in stats["sources"]}
        expected = "PUSH_DOWN" if push else "GATEWAY"
        assert sources["MEDIATION"] == sources["LITIGATION"] == expected, sources
        assert {s["centre"]: s["records"] for s in stats["sources"]} == {
            c.name: len(rows) for c, rows in mine.rows.items()}
        context = (mine.region, str(start), str(end), by, push)
        assert not differences(stats["totals"], totals), (context, differences(stats["totals"], totals))
        if not by:
            assert stats["groups"] == [], context
            continue
        answered = {(g["centre"], g["category"], g["regionCode"], g["month"]): g["figures"]
                    for g in stats["groups"]}
        assert len(answered) == len(stats["groups"]), context
        recomputed = mine.grouped(by)
        assert answered.keys() == recomputed.keys(), context
        wrong = {key: differences(answered[key], figures) for key, figures in recomputed.items()
                 if answered[key] != figures}
        assert not wrong, (context, wrong)
    return {name: totals[name] for name in COUNTS}


async def test_every_figure_recomputed_from_the_centres_equals_statistics(
        centres: Centres, analyst: Gateway) -> None:
    """A prefecture over a year up to now, and the province over the whole world: every grouping."""
    exercised: Counter[str] = Counter()
    for region, start, end in (("632300", dt.date(2024, 7, 1), dt.date(2025, 6, 30)),
                               ("630000", dt.date(2023, 7, 1), dt.date(2025, 6, 30))):
        mine = await recompute(centres, region, start, end)
        exercised.update(await compare(analyst, mine, start, end, GROUPINGS))
        for centre, rows in mine.rows.items():  # every centre's deadlines: some met, some missed
            counted = sum((contribution(r) for r in rows), Counter[str]())
            assert 0 < counted["closedOnTime"] < counted["closed"], (region, centre, counted)
            assert counted["overdueOpen"] > 0, (region, centre)
    assert all(exercised[name] > 0 for name in COUNTS), exercised  # every figure is compared on non-zero counts


_FIRST, _LAST = dt.date(2023, 6, 20), dt.date(2025, 6, 30)


@settings(max_examples=12, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(region=st.sampled_from(["632300", "630000", "632301", "630100", "650200", "620800"]),
       start=st.dates(_FIRST, _LAST), days=st.integers(0, 400))
@example(region="632301", start=dt.date(2024, 2, 15), days=45)  # a county, cut mid-month at both ends
async def test_periods_and_regions_drawn_at_random(centres: Centres, analyst: Gateway, region: str,
                                                   start: dt.date, days: int) -> None:
    end = min(start + dt.timedelta(days=days), _LAST)
    await compare(analyst, await recompute(centres, region, start, end), start, end,
                  [["CENTRE", "MONTH"], ["REGION"], ["CENTRE", "CATEGORY", "REGION", "MONTH"]])
