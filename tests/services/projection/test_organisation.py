"""``organisation(creditCode:)`` over the real sandbox: the projection's index of party
credit codes finds an employer's matters at several centres, which are then read from
the centres under the same rules as every other path (scope per centre, jurisdiction
with no oracle, masking, audit); without a loaded projection the answer says so."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from connectors.legal import parse_application
from connectors.litigation import parse_case as parse_court_case
from connectors.mediation import parse_case as parse_mediation_case
from connectors.registry import build_connectors, build_feeds
from gateway.app import create_app
from gateway.demo import demo_settings_for
from gateway.projection import ProjectionHolder, feed_policy
from gateway.settings import ProjectionSettings
from onedoor.model import Centre, MatterRecord, PartyKind
from policy.disclosure import protections_of
from policy.personas import persona_claims
from sandbox import legal, litigation, mediation
from sandbox.client import get_stats, reset_stats
from sandbox.idp import mint_token
from sandbox.runner import Sandbox, run_sandbox
from sandbox.world import Matter, World
from schema.projected import STORED, row_mapper
from services.audit import AuditStore, open_audit_store
from services.projection import Feeder, ProjectionStore, open_projection_store

pytestmark = pytest.mark.asyncio(loop_scope="module")

QUERY = """query O($code: String!) { organisation(creditCode: $code) { creditCode name
  matters(first: 100) { totalCount edges { cursor } nodes { id centre reference regionCode: region { code }
    parties { kind name idNumber phone organisationCode } } } } }"""
UNUSED = "91632301MA7ABCDE1E"  # a valid code no sandbox organisation has (registered in 632301, made up)
_READ: dict[Centre, Callable[[World, Matter], MatterRecord]] = {
    Centre.MEDIATION: lambda w, m: parse_mediation_case(mediation.render_case(w, m)),
    Centre.LEGAL_SERVICES: lambda w, m: parse_application(legal.render_application(w, m)),
    Centre.LITIGATION: lambda w, m: parse_court_case(litigation.render_case(w, m)),
}


@dataclass
class Gateways:
    sandbox: Sandbox
    projected: httpx.AsyncClient
    without: httpx.AsyncClient  # no projection configured
    loading: httpx.AsyncClient  # a projection whose first load has not finished
    audit: AuditStore

    async def ask(self, client: httpx.AsyncClient, code: str, *, region: str = "632300",
                  scopes: str | None = None, query: str = QUERY) -> dict[str, Any]:
        claims = persona_claims("caseworker", region=region, scopes=scopes)
        token = mint_token(self.sandbox.state_dir, {"iss": self.sandbox.idp_url, **claims}, ttl=600)
        response = await client.post("/graphql", json={"query": query, "variables": {"code": code}},
                                     headers={"Authorization": f"Bearer {token}"})
        body: dict[str, Any] = response.json()
        return body

    async def calls(self) -> dict[Centre, int]:
        return {c: (await get_stats(url))["total"] for c, url in self.sandbox.urls.items()}

    async def reset(self) -> None:
        for url in self.sandbox.urls.values():
            await reset_stats(url)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gateways(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Gateways]:
    state: Path = tmp_path_factory.mktemp("organisation")
    async with run_sandbox(None, state, matters=3000) as sb:
        settings = demo_settings_for(dict(sb.urls), sb.idp_url, state, port=8000)
        store = await open_projection_store(f"duckdb:///{state / 'projection.duckdb'}", STORED)
        feeder = Feeder(store, build_feeds(settings.centres, policy=feed_policy(ProjectionSettings())),
                        row_mapper(b"k" * 32))
        await feeder.load()
        empty: ProjectionStore = await open_projection_store(f"sqlite:///{state / 'empty.sqlite'}", STORED)
        audit = await open_audit_store(f"sqlite:///{state / 'audit.sqlite'}")
        from policy.auth import build_authenticator

        authenticate = build_authenticator(settings.auth)
        connectors = build_connectors(settings.centres)
        apps = [create_app(settings, connectors, authenticate, audit=audit, projection=ProjectionHolder(store, feeder)),
                create_app(settings, connectors, authenticate, audit=audit),
                create_app(settings, connectors, authenticate, audit=audit, projection=ProjectionHolder(empty))]
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=apps[0]), base_url="http://p") as a, \
                httpx.AsyncClient(transport=httpx.ASGITransport(app=apps[1]), base_url="http://l") as b, \
                httpx.AsyncClient(transport=httpx.ASGITransport(app=apps[2]), base_url="http://e") as c:
            yield Gateways(sb, a, b, c, audit)
        await feeder.aclose()
        for connector in connectors.values():
            await connector.aclose()
        await authenticate.aclose()
        await audit.aclose()
        await store.aclose()
        await empty.aclose()


def _employers(world: World, prefix: str) -> dict[str, set[tuple[Centre, str]]]:
    """Credit code → (centre, reference) of its matters under ``prefix``, read from the
    centres' own renderings: organisations with a confidential matter left out."""
    found: dict[str, set[tuple[Centre, str]]] = defaultdict(set)
    confidential: set[str] = set()
    for centre, read in _READ.items():
        for row in world.rows(centre):
            record = read(world, world.matter(row))
            if not record.region_code.startswith(prefix):
                continue
            for party in record.parties:
                if party.kind is PartyKind.ORGANISATION and party.org_code:
                    found[party.org_code].add((centre, record.reference))
                    if protections_of(record).confidential is not None:
                        confidential.add(party.org_code)
    return {code: keys for code, keys in found.items() if code not in confidential}


def _busiest(world: World, prefix: str = "6323") -> tuple[str, set[tuple[Centre, str]]]:
    code, keys = max(_employers(world, prefix).items(), key=lambda i: (len({c for c, _ in i[1]}), len(i[1])))
    assert len({c for c, _ in keys}) == 3  # mediated, aided and litigated
    return code, keys


async def test_an_employers_matters_across_centres(gateways: Gateways) -> None:
    code, expected = _busiest(gateways.sandbox.world)
    body = await gateways.ask(gateways.projected, code.lower())  # canonicalised
    assert "errors" not in body, body["errors"]
    org = body["data"]["organisation"]
    assert org["creditCode"] == code and org["name"].endswith(("公司", "合作社", "超市"))
    nodes = org["matters"]["nodes"]
    assert {(Centre[n["centre"]], n["reference"]) for n in nodes} == expected
    assert org["matters"]["totalCount"] == len(expected) and len({n["centre"] for n in nodes}) == 3
    assert all(n["regionCode"]["code"].startswith("6323") for n in nodes)
    assert all(any(p["organisationCode"] == code and p["name"] == org["name"] for p in n["parties"]) for n in nodes)
    # The caseworker holds pii:read: persons in clear (minors stay masked), and the audit
    # record names them.
    people = {p["idNumber"] for n in nodes for p in n["parties"] if p["kind"] == "PERSON" and p["idNumber"]}
    clear = sorted(p for p in people if "*" not in p)
    assert len(clear) > len(people) / 2
    records, _ = await gateways.audit.query(citizen_id=clear[0])
    assert any(set(r.centres) >= {"MEDIATION"} and r.result_count >= len(expected) for r in records)


async def test_pages_follow_the_global_order(gateways: Gateways) -> None:
    code, expected = _busiest(gateways.sandbox.world)
    query = """query O($code: String!, $after: String) { organisation(creditCode: $code) {
      matters(first: 2, after: $after) { pageInfo { hasNextPage endCursor } nodes { reference } } } }"""
    seen: list[str] = []
    after = None
    for _ in range(len(expected)):
        claims = persona_claims("caseworker")
        token = mint_token(gateways.sandbox.state_dir, {"iss": gateways.sandbox.idp_url, **claims}, ttl=600)
        page = (await gateways.projected.post("/graphql", json={"query": query, "variables": {
            "code": code, "after": after}}, headers={"Authorization": f"Bearer {token}"})).json()
        matters = page["data"]["organisation"]["matters"]
        seen += [n["reference"] for n in matters["nodes"]]
        after = matters["pageInfo"]["endCursor"]
        if not matters["pageInfo"]["hasNextPage"]:
            break
    assert sorted(seen) == sorted(r for _, r in expected) and len(seen) == len(set(seen))


async def test_outside_the_jurisdiction_an_employer_looks_like_an_unknown_code(gateways: Gateways) -> None:
    code, _ = _busiest(gateways.sandbox.world)
    await gateways.reset()
    elsewhere = await gateways.ask(gateways.projected, code, region="650200")  # Karamay
    calls_real = await gateways.calls()
    unknown = await gateways.ask(gateways.projected, UNUSED, region="650200")
    calls_unknown = await gateways.calls()
    unknown_home = await gateways.ask(gateways.projected, UNUSED)
    assert elsewhere == unknown == unknown_home == {"data": {"organisation": None}}
    assert sum(calls_real.values()) == sum(calls_unknown.values()) == 0  # the same work: none


async def test_an_invalid_credit_code_is_bad_user_input(gateways: Gateways) -> None:
    code, _ = _busiest(gateways.sandbox.world)
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    for bad, reason in ((wrong, "checksum"), (code[:-1], "length"), ("91632301MA7ABCDI1E", "format")):
        body = await gateways.ask(gateways.projected, bad)
        assert body["data"] == {"organisation": None}
        error = body["errors"][0]
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "creditCode", "reason": reason}
        assert "统一社会信用代码" in error["message"] and "unified social credit code" in error["message"]


async def test_centres_without_scope_are_not_called_and_are_named(gateways: Gateways) -> None:
    code, expected = _busiest(gateways.sandbox.world)
    await gateways.reset()
    body = await gateways.ask(gateways.projected, code, scopes="mediation:read pii:read")
    assert body["extensions"]["omittedCentres"] == ["GOVERNANCE", "LEGAL_SERVICES", "LITIGATION", "PETITIONS"]
    nodes = body["data"]["organisation"]["matters"]["nodes"]
    assert {(Centre[n["centre"]], n["reference"]) for n in nodes} == {k for k in expected if k[0] is Centre.MEDIATION}
    calls = await gateways.calls()
    assert calls[Centre.LITIGATION] == calls[Centre.LEGAL_SERVICES] == 0
    # Without any scope for the centres where it has matters, the employer is null, and
    # the omitted centres are named all the same.
    none = await gateways.ask(gateways.projected, code, scopes="petitions:read pii:read")
    assert none["data"] == {"organisation": None}
    assert none["extensions"]["omittedCentres"] == ["GOVERNANCE", "LEGAL_SERVICES", "LITIGATION", "MEDIATION"]


async def test_personal_fields_are_masked_without_pii_read(gateways: Gateways) -> None:
    code, _ = _busiest(gateways.sandbox.world)
    scopes = "mediation:read legal:read petitions:read litigation:read governance:read"
    body = await gateways.ask(gateways.projected, code, scopes=scopes)
    org = body["data"]["organisation"]
    parties = [p for n in org["matters"]["nodes"] for p in n["parties"]]
    people = [p for p in parties if p["kind"] == "PERSON"]
    assert people and all("*" in p["name"] for p in people)
    assert all(p["idNumber"] is None or "*" in p["idNumber"] for p in people)
    assert all(p["phone"] is None or "*" in p["phone"] for p in people)
    organisations = [p for p in parties if p["kind"] == "ORGANISATION" and p["organisationCode"] == code]
    assert organisations and all(p["name"] == org["name"] and "*" not in p["name"] for p in organisations)


async def test_without_a_loaded_projection_the_answer_says_so(gateways: Gateways) -> None:
    code, _ = _busiest(gateways.sandbox.world)
    body = await gateways.ask(gateways.without, code)
    assert body["data"] == {"organisation": None}
    assert [e["extensions"]["code"] for e in body["errors"]] == ["PROJECTION_UNAVAILABLE"]
    loading = await gateways.ask(gateways.loading, code)  # opened, nothing loaded yet
    assert loading["data"] == {"organisation": None}
    assert {(e["extensions"]["code"], e["extensions"].get("centre")) for e in loading["errors"]} == {
        ("PROJECTION_UNAVAILABLE", c.value) for c in Centre}


async def test_an_organisation_past_the_read_limit_is_cut_and_says_so(gateways: Gateways,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from schema import organisation

    code, expected = _busiest(gateways.sandbox.world)
    monkeypatch.setattr(organisation, "MAX_MATTERS", 2)
    body = await gateways.ask(gateways.projected, code)
    assert body["data"]["organisation"]["matters"]["totalCount"] == 2 < len(expected)
    assert [e["extensions"] for e in body["errors"]] == [{"code": "ORGANISATION_TOO_LARGE", "limit": 2}]


COUNTS = """query O($code: String!) { organisation(creditCode: $code) { creditCode name
  counts { centre category status count } } }"""


async def test_an_analyst_gets_counts_from_the_projection_and_no_matters(gateways: Gateways) -> None:
    """stats:read alone: the employer's matters counted per centre, category and status from
    the projection (no centre call, no name, no person), inside the jurisdiction; its
    matters need a centre's read scope, and a reader without stats:read gets no counts."""
    code, expected = _busiest(gateways.sandbox.world)
    await gateways.reset()
    body = await gateways.ask(gateways.projected, code, scopes="stats:read", query=COUNTS)
    assert "errors" not in body, body["errors"]
    org = body["data"]["organisation"]
    assert org["creditCode"] == code and org["name"] is None  # the projection holds no names
    per_centre: dict[str, int] = defaultdict(int)
    for count in org["counts"]:
        per_centre[count["centre"]] += count["count"]
    assert per_centre == {c.name: sum(1 for k in expected if k[0] is c) for c in {k[0] for k in expected}}
    assert all(c["category"] for c in org["counts"])
    assert sum((await gateways.calls()).values()) == 0
    # Outside the jurisdiction: as for a code nobody uses.
    assert await gateways.ask(gateways.projected, code, region="650200", scopes="stats:read", query=COUNTS) == \
        await gateways.ask(gateways.projected, UNUSED, scopes="stats:read", query=COUNTS) == \
        {"data": {"organisation": None}}
    denied = await gateways.ask(gateways.projected, code, scopes="stats:read")
    assert {e["extensions"]["code"] for e in denied["errors"]} == {"UNAUTHORIZED_FIELD_OR_TYPE"}
    assert denied["errors"][0]["path"] == ["organisation", "matters"]
    reader = await gateways.ask(gateways.projected, code, scopes="mediation:read", query=COUNTS)
    assert reader["errors"][0]["path"] == ["organisation", "counts"]
    assert reader["errors"][0]["extensions"]["requiredScopes"] == [["stats:read"]]
