"""The read schema over in-memory centres: shape, batching, rows and masking."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.errors import CentreTimeout
from onedoor.identifiers import make_resident_id
from onedoor.model import Centre, LinkRecord, LinkRelation, ResidentRecord
from policy.principal import Principal
from schema import RequestContext, build_schema
from schema.loaders import Loaders

from .fakes import FakeCentre, at, record

ALICE = make_resident_id("632301", __import__("datetime").date(1980, 1, 1), 123)
BOB = make_resident_id("650203", __import__("datetime").date(1975, 5, 5), 222)
READ_ALL = frozenset({"mediation:read", "legal:read", "petitions:read", "litigation:read",
                      "governance:read"})

SCHEMA = build_schema()


def _centres() -> dict[Centre, FakeCentre]:
    m, leg, p, lit, g = (
        Centre.MEDIATION, Centre.LEGAL_SERVICES, Centre.PETITIONS, Centre.LITIGATION,
        Centre.GOVERNANCE,
    )
    return {
        g: FakeCentre(g, [
            record(g, "G1", at=at(1), party=ALICE, links=[LinkRecord(LinkRelation.REFERRED_TO, m, "M1")]),
        ], residents=[
            ResidentRecord(ALICE, "张三", "13812345678", "青海省同仁市某镇某村1号", "632301001001"),
            ResidentRecord(BOB, "李四", "13912345678", "克拉玛依区某街道", "650203001001"),
        ]),
        m: FakeCentre(m, [
            record(m, "M1", at=at(2), party=ALICE, links=[
                LinkRecord(LinkRelation.REFERRED_FROM, g, "G1"),
                LinkRecord(LinkRelation.CONFIRMED_BY, lit, "C1"),
                LinkRecord(LinkRelation.ESCALATED_TO, p, "P-OTHER"),
            ]),
        ]),
        leg: FakeCentre(leg, [record(leg, "L1", at=at(3), party=ALICE)]),
        # P-OTHER is linked from M1 but registered in Karamay, outside Huangnan.
        p: FakeCentre(p, [record(p, "P1", at=at(4), party=ALICE),
                          record(p, "P-OTHER", at=at(5), party=BOB, region="650203001001")]),
        lit: FakeCentre(lit, [record(lit, "C1", at=at(6), party=BOB,
                                     links=[LinkRecord(LinkRelation.CONFIRMS, m, "M1")])]),
    }


def _context(centres: dict[Centre, FakeCentre], *, scopes: frozenset[str] = READ_ALL,
             regions: tuple[str, ...] = ("6323",), citizen: str | None = None) -> RequestContext:
    principal = Principal(sub="u1", client_id="c", scopes=scopes, regions=regions,
                          citizen_id=citizen, authenticated=True)
    return RequestContext(principal=principal, connectors=centres, loaders=Loaders(centres),
                          request_id="t")


async def _run(query: str, ctx: RequestContext, **variables: Any) -> Any:
    return await SCHEMA.execute(query, variable_values=variables, context_value=ctx)


DASHBOARD = """
query($id: String!) { citizen(idNumber: $id) { idNumber name
  matters(first: 10) { totalCount nodes { __typename centre reference
    links { relation matter { __typename reference links { relation matter { reference } } } } } } } }
"""


async def test_citizen_matters_across_five_centres_with_links_batched() -> None:
    centres = _centres()
    result = await _run(DASHBOARD, _context(centres, scopes=READ_ALL | {"pii:read"}), id=ALICE)
    assert result.errors is None
    citizen = result.data["citizen"]
    assert citizen["name"] == "张三" and citizen["idNumber"] == ALICE
    nodes = citizen["matters"]["nodes"]
    assert [n["reference"] for n in nodes] == ["P1", "L1", "M1", "G1"]
    assert citizen["matters"]["totalCount"] == 4
    m1 = next(n for n in nodes if n["reference"] == "M1")
    # C1 is in jurisdiction (Huangnan); P-OTHER (Karamay) is left out as if absent.
    assert {(link["relation"], link["matter"]["reference"]) for link in m1["links"]} == {
        ("REFERRED_FROM", "G1"), ("CONFIRMED_BY", "C1"),
    }
    # One call per centre per level: residents + find-by-citizen, then links.
    # G1 was primed by the citizen search, so only C1 and P-OTHER were fetched.
    for fake in centres.values():
        assert fake.calls["find_by_citizens"] == 1
    assert centres[Centre.GOVERNANCE].calls["get_residents"] == 1
    assert centres[Centre.LITIGATION].calls["get_many"] == 1
    assert centres[Centre.PETITIONS].calls["get_many"] == 1
    assert centres[Centre.MEDIATION].calls["get_many"] == 0
    assert centres[Centre.GOVERNANCE].calls["get_many"] == 0


async def test_personal_data_is_masked_without_pii_read() -> None:
    result = await _run(
        'query($id: String!) { citizen(idNumber: $id) { idNumber name phone '
        'matters { nodes { parties { name idNumber phone } } } } }',
        _context(_centres()), id=ALICE,
    )
    assert result.errors is None
    citizen = result.data["citizen"]
    assert citizen["idNumber"] == ALICE[:4] + "*" * 10 + ALICE[-4:]
    assert citizen["name"] == "张*" and citizen["phone"] == "138****5678"
    party = citizen["matters"]["nodes"][0]["parties"][0]
    assert party == {"name": "张*", "idNumber": citizen["idNumber"], "phone": "138****5678"}


async def test_centres_without_scope_are_not_called_and_are_named() -> None:
    centres = _centres()
    ctx = _context(centres, scopes=frozenset({"mediation:read", "governance:read"}))
    result = await _run(DASHBOARD, ctx, id=ALICE)
    assert result.errors is None
    assert {n["centre"] for n in result.data["citizen"]["matters"]["nodes"]} == {
        "MEDIATION", "GOVERNANCE"}
    assert result.extensions["omittedCentres"] == ["LEGAL_SERVICES", "LITIGATION", "PETITIONS"]
    for centre in (Centre.LEGAL_SERVICES, Centre.LITIGATION, Centre.PETITIONS):
        assert sum(centres[centre].calls.values()) == 0


@pytest.mark.parametrize(
    ("id_number", "reason"),
    [("63230119800101123", "length"), ("632301198001011230", "checksum"),
     ("632301198013011236", "date"), ("6323011980010112A4", "format")],
)
async def test_bad_resident_ids_are_bad_user_input(id_number: str, reason: str) -> None:
    result = await _run("query($id: String!) { citizen(idNumber: $id) { name } }",
                        _context(_centres()), id=id_number)
    assert result.data == {"citizen": None}
    (error,) = result.errors
    assert error.extensions["code"] == "BAD_USER_INPUT"
    assert error.extensions["reason"] == reason


async def test_a_failing_centre_gives_a_partial_result_with_its_code() -> None:
    centres = _centres()
    centres[Centre.PETITIONS].fail = CentreTimeout(Centre.PETITIONS, detail="read timeout")
    result = await _run(DASHBOARD, _context(centres), id=ALICE)
    assert [n["reference"] for n in result.data["citizen"]["matters"]["nodes"]] == ["L1", "M1", "G1"]
    # The citizen search and the link M1 → P-OTHER (directly, and again under
    # G1 → M1) needed PETITIONS; every other part of the answer is there.
    errors = sorted(result.errors, key=lambda e: (len(e.path), str(e.path)))
    assert [e.path for e in errors] == [
        ["citizen", "matters"],
        ["citizen", "matters", "nodes", 1, "links", 2, "matter"],
        ["citizen", "matters", "nodes", 2, "links", 0, "matter", "links", 2, "matter"],
    ]
    for error in errors:
        assert error.extensions == {"code": "CENTRE_TIMEOUT", "centre": "PETITIONS"}
        assert "read timeout" not in error.message


async def test_matters_outside_jurisdiction_are_indistinguishable_from_missing() -> None:
    centres = _centres()
    query = "query($id: ID!) { matter(id: $id) { reference } }"
    from schema.ids import encode_id

    outside = await _run(query, _context(centres), id=encode_id(Centre.PETITIONS, "P-OTHER"))
    missing = await _run(query, _context(centres), id=encode_id(Centre.PETITIONS, "P-NONE"))
    assert outside.data == missing.data == {"matter": None}
    assert outside.errors is None and missing.errors is None


async def test_region_list_filter_and_total_respect_jurisdiction() -> None:
    centres = _centres()
    result = await _run(
        "{ matters(filter: {}, first: 2) { totalCount edges { cursor node { reference } } "
        "pageInfo { hasNextPage endCursor } } }", _context(centres))
    assert result.errors is None
    page = result.data["matters"]
    assert page["totalCount"] == 5  # P-OTHER (Karamay) is not counted
    refs = [e["node"]["reference"] for e in page["edges"]]
    assert refs == ["C1", "P1"] and page["pageInfo"]["hasNextPage"]
    nxt = await _run(
        "query($a: String) { matters(filter: {}, first: 10, after: $a) { totalCount nodes { reference } "
        "pageInfo { hasNextPage } } }", _context(centres), a=page["pageInfo"]["endCursor"])
    assert [n["reference"] for n in nxt.data["matters"]["nodes"]] == ["L1", "M1", "G1"]
    assert nxt.data["matters"]["totalCount"] == 5
    assert not nxt.data["matters"]["pageInfo"]["hasNextPage"]


TRACE = """query($id: String!) { citizen(idNumber: $id) { trace {
  matters { reference } links { source { reference } relation target { reference } } } } }"""


async def test_trace_needs_audit_read() -> None:
    result = await _run(TRACE, _context(_centres()), id=ALICE)
    assert result.data == {"citizen": None}  # trace is non-null: the denial reaches citizen
    (error,) = result.errors
    assert error.extensions["code"] == "UNAUTHORIZED_FIELD_OR_TYPE"
    assert error.extensions["requiredScopes"] == [["audit:read"]]


async def test_trace_follows_links_beyond_the_citizens_own_matters_in_time_order() -> None:
    ctx = _context(_centres(), scopes=READ_ALL | {"audit:read"})
    result = await _run(TRACE, ctx, id=ALICE)
    assert result.errors is None
    trace = result.data["citizen"]["trace"]
    # C1 (a court ruling where only Bob is a party) is reached through M1's link;
    # P-OTHER stays out (outside jurisdiction).
    assert [m["reference"] for m in trace["matters"]] == ["G1", "M1", "L1", "P1", "C1"]
    assert {(x["source"]["reference"], x["relation"], x["target"]["reference"])
            for x in trace["links"]} == {
        ("G1", "REFERRED_TO", "M1"), ("M1", "REFERRED_FROM", "G1"),
        ("M1", "CONFIRMED_BY", "C1"), ("C1", "CONFIRMS", "M1"),
    }


async def test_citizen_searches_start_beside_the_base_data_lookup_not_after() -> None:
    import asyncio

    centres = _centres()
    governance = centres[Centre.GOVERNANCE]
    release = asyncio.Event()
    searches_before_release: list[int] = []
    original = governance.get_residents

    async def slow_residents(ids: Any) -> Any:
        await asyncio.sleep(0)  # let the other centres' batches dispatch
        searches_before_release.append(
            sum(c.calls["find_by_citizens"] for c in centres.values()))
        release.set()
        return await original(ids)

    governance.get_residents = slow_residents  # type: ignore[method-assign]
    result = await _run(DASHBOARD, _context(centres), id=ALICE)
    assert result.errors is None and release.is_set()
    # All five searches were already under way while the resident was looked up:
    # one level of centre calls, not two.
    assert searches_before_release == [5]
