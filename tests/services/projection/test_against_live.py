"""The projection answers as the centres' own APIs do: ``statistics`` (every grouping),
``overdue`` and ``escalations`` from a loaded projection equal the live path's, on a
small world over real sockets, with each engine."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.registry import build_connectors, build_feeds
from gateway.app import create_app
from gateway.demo import demo_settings_for
from gateway.projection import ProjectionHolder, feed_policy
from gateway.settings import ProjectionSettings
from onedoor import regions
from onedoor.model import Centre
from policy.auth import build_authenticator
from policy.personas import persona_claims
from sandbox.idp import mint_token
from sandbox.runner import Sandbox, run_sandbox
from schema.projected import STORED, row_mapper
from services.audit import open_audit_store
from services.projection import Feeder, ProjectionStore, open_projection_store

from .conftest import ENGINES, engine_url

pytestmark = pytest.mark.asyncio(loop_scope="module")

STATS = """
query S($region: String!, $from: Date!, $to: Date!, $by: [StatisticsDimension!]) {
  statistics(regionCode: $region, from: $from, to: $to, groupBy: $by, pushDown: false) {
    regionCode totals { ...F } groups { centre category regionCode month figures { ...F } }
    sources { centre source records } missingCentres freshness { centre asOf feed }
  }
}
fragment F on StatisticsFigures {
  registered accepted forwarded assigned closed closedOnTime mediations agreements escalated repeatPetitions
  acceptanceRate closureRate onTimeClosureRate mediationSuccessRate
}"""
OVERDUE = """query O($region: String!, $asOf: DateTime) { overdue(regionCode: $region, asOf: $asOf) {
  id centre reference category regionCode regionName centreStatus receivedAt deadlineKind dueAt daysOverdue statute
  dayCount extensionDays } }"""
ESCALATIONS = """query E($region: String!, $from: Date!, $to: Date!) { escalations(regionCode: $region, from: $from,
  to: $to) { reachedPetition reachedCourt days steps { id centre reference category regionCode status centreStatus
  receivedAt } } }"""


@dataclass
class Both:
    sandbox: Sandbox
    live: httpx.AsyncClient
    projected: httpx.AsyncClient
    store: ProjectionStore

    async def ask(self, client: httpx.AsyncClient, query: str, jurisdiction: str = "630000",
                  **variables: Any) -> dict[str, Any]:
        claims = persona_claims("analyst", region=jurisdiction)
        token = mint_token(self.sandbox.state_dir, {"iss": self.sandbox.idp_url, **claims}, ttl=600)
        response = await client.post("/graphql", json={"query": query, "variables": variables},
                                     headers={"Authorization": f"Bearer {token}"})
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=ENGINES)
async def both(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Both]:
    state: Path = tmp_path_factory.mktemp("projection")
    url = engine_url(request, request.param, state)
    async with run_sandbox(None, state, matters=6000) as sb:
        settings = demo_settings_for(dict(sb.urls), sb.idp_url, state, port=8000)
        store = await open_projection_store(url, STORED)
        feeds = build_feeds(settings.centres, policy=feed_policy(ProjectionSettings()))
        feeder = Feeder(store, feeds, row_mapper(b"k" * 32))
        drifts = await feeder.load()
        assert all(d.missing == d.seen > 0 for d in drifts.values()), drifts
        audit = await open_audit_store(f"sqlite:///{state / 'audit.sqlite'}")
        authenticate = build_authenticator(settings.auth)
        connectors = build_connectors(settings.centres)
        live = create_app(settings, connectors, authenticate, audit=audit)
        projected = create_app(settings, connectors, authenticate, audit=audit,
                               projection=ProjectionHolder(store, feeder))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=live), base_url="http://live") as a, \
                httpx.AsyncClient(transport=httpx.ASGITransport(app=projected), base_url="http://p") as b:
            yield Both(sb, a, b, store)
        await feeder.aclose()
        for connector in connectors.values():
            await connector.aclose()
        await authenticate.aclose()
        await audit.aclose()
        await store.aclose()


def _span(both: Both, days: int = 500) -> dict[str, str]:
    today = both.sandbox.world.now.date()
    return {"from": (today - dt.timedelta(days=days)).isoformat(), "to": today.isoformat()}


@pytest.mark.parametrize("region", ["630000", "632300"])
async def test_statistics_equal_the_live_path_in_every_grouping(both: Both, region: str) -> None:
    dims = ["CENTRE", "CATEGORY", "REGION", "MONTH"]
    groupings = [list(c) for n in range(len(dims) + 1) for c in itertools.combinations(dims, n)]
    for by in groupings:
        live = (await both.ask(both.live, STATS, region, region=region, by=by, **_span(both)))["statistics"]
        mine = (await both.ask(both.projected, STATS, region, region=region, by=by, **_span(both)))["statistics"]
        assert mine["totals"] == live["totals"], by
        assert mine["groups"] == live["groups"], by
        assert mine["missingCentres"] == live["missingCentres"] == []
    assert {s["source"] for s in mine["sources"]} == {"PROJECTION"}
    assert [s["records"] for s in mine["sources"]] == [s["records"] for s in live["sources"]]
    assert {f["feed"] for f in mine["freshness"]} == {"PUSH", "CURSOR", "EXPORT"}
    assert mine["totals"]["registered"] > 100 and mine["totals"]["repeatPetitions"] > 0


async def test_overdue_and_escalations_equal_the_live_path(both: Both) -> None:
    as_of = both.sandbox.world.now.isoformat()
    for region in ("630000", "632300", "650200"):
        live = (await both.ask(both.live, OVERDUE, region, region=region, asOf=as_of))["overdue"]
        mine = (await both.ask(both.projected, OVERDUE, region, region=region, asOf=as_of))["overdue"]
        assert mine == live and len(live) > 0
    live_chains = (await both.ask(both.live, ESCALATIONS, region="630000", **_span(both, 700)))["escalations"]
    mine_chains = (await both.ask(both.projected, ESCALATIONS, region="630000", **_span(both, 700)))["escalations"]
    assert mine_chains == live_chains and len(live_chains) > 0


async def test_rows_hold_no_personal_data(both: Both) -> None:
    world = both.sandbox.world
    rows = await both.store.rows([(Centre.PETITIONS, world.native_id(r)) for r in world.rows(Centre.PETITIONS)[:50]])
    people = {world.matter(r).citizen for r in world.rows(Centre.PETITIONS)[:50]}
    text = repr(list(rows.values()))
    assert rows and all(p.name not in text and p.id_number not in text and (p.phone or "-") not in text
                        for p in people)
    assert all(r.person is None or len(r.person) == 64 for r in rows.values())


_COUNTIES = sorted(r.code for r in regions.counties())
_PLACES = ["630000", "630100", "632300", "650200", "620800", "431300", *_COUNTIES[::7]]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(jurisdiction=st.sampled_from(_PLACES), region=st.sampled_from(_PLACES))
async def test_jurisdiction_is_inside_every_projection_query(both: Both, jurisdiction: str, region: str) -> None:
    claims = persona_claims("analyst", region=jurisdiction)
    token = mint_token(both.sandbox.state_dir, {"iss": both.sandbox.idp_url, **claims}, ttl=600)
    variables = {"region": region, "by": ["REGION"], **_span(both)}
    answers = []
    for client in (both.live, both.projected):
        stats = (await client.post("/graphql", json={"query": STATS, "variables": variables},
                                   headers={"Authorization": f"Bearer {token}"})).json()
        late = (await client.post("/graphql", json={"query": OVERDUE, "variables": {"region": region}},
                                  headers={"Authorization": f"Bearer {token}"})).json()
        chains = (await client.post("/graphql", json={"query": ESCALATIONS, "variables": {
            "region": region, **_span(both, 700)}}, headers={"Authorization": f"Bearer {token}"})).json()
        answers.append((stats, late, chains))
    (live, live_late, live_chains), (mine, mine_late, mine_chains) = answers
    inside = regions.canonical_prefix(region).startswith(regions.canonical_prefix(jurisdiction))
    if not inside:  # refused, never silently empty
        for body in (mine, mine_late, mine_chains):
            assert body["data"] is None or not any(body["data"].values())
            assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        return
    prefix = regions.canonical_prefix(region)
    assert all(g["regionCode"].startswith(prefix) for g in mine["data"]["statistics"]["groups"])
    assert all(i["regionCode"].startswith(prefix) for i in mine_late["data"]["overdue"])
    assert mine["data"]["statistics"]["totals"] == live["data"]["statistics"]["totals"]
    assert mine_late["data"]["overdue"] == live_late["data"]["overdue"]
    home = regions.canonical_prefix(jurisdiction)  # a chain may leave the region, never the jurisdiction
    steps = [s for c in mine_chains["data"]["escalations"] for s in c["steps"]]
    assert all(s["regionCode"].startswith(home) for s in steps)
    assert all(c["steps"][0]["regionCode"].startswith(prefix) for c in mine_chains["data"]["escalations"])
    assert mine_chains["data"]["escalations"] == live_chains["data"]["escalations"]
