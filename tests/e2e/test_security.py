"""Who may see what, over the real centres: a scope matrix per persona, and
properties (hypothesis) that no answer leaves the token's jurisdiction or shows
personal data unmasked without ``pii:read``."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.demo import demo_samples
from onedoor import regions
from onedoor.model import Centre

from .conftest import OneDoor

pytestmark = pytest.mark.asyncio(loop_scope="module")

READ = {"MEDIATION": "mediation:read", "LEGAL_SERVICES": "legal:read",
        "PETITIONS": "petitions:read", "LITIGATION": "litigation:read",
        "GOVERNANCE": "governance:read"}
TYPENAMES = {"MEDIATION": "MediationCase", "LEGAL_SERVICES": "LegalServiceRequest",
             "PETITIONS": "Petition", "LITIGATION": "CourtCase", "GOVERNANCE": "GridEvent"}
MASKED_ID = re.compile(r"^\d{4}\*{10}[\dX]{4}$")


def _codes(body: dict[str, Any]) -> set[str]:
    return {e["extensions"]["code"] for e in body.get("errors", [])}


@pytest.mark.parametrize(
    ("persona", "field", "outcome"),
    [
        ("caseworker", "citizen", "ok"), ("auditor", "citizen", "ok"),
        ("portal", "citizen", "ok"), ("analyst", "citizen", "UNAUTHORIZED_FIELD_OR_TYPE"),
        ("citizen", "citizen", "ok"), ("citizen", "other", "FORBIDDEN"),
        ("citizen", "me", "ok"), ("caseworker", "me", "UNAUTHORIZED_FIELD_OR_TYPE"),
        ("caseworker", "matters", "ok"), ("analyst", "matters", "UNAUTHORIZED_FIELD_OR_TYPE"),
        ("citizen", "matters", "UNAUTHORIZED_FIELD_OR_TYPE"),
        ("auditor", "auditTrail", "ok"), ("caseworker", "auditTrail", "UNAUTHORIZED_FIELD_OR_TYPE"),
        ("portal", "auditTrail", "UNAUTHORIZED_FIELD_OR_TYPE"),
        ("auditor", "trace", "ok"), ("portal", "trace", "UNAUTHORIZED_FIELD_OR_TYPE"),
        ("analyst", "region", "ok"),
    ],
)
async def test_scope_matrix_per_persona(onedoor: OneDoor, persona: str, field: str,
                                        outcome: str) -> None:
    own, other = demo_samples(onedoor.sandbox.world, 2)
    token = onedoor.token(persona, sub=own if persona == "citizen" else None)
    queries = {
        "citizen": ("query($id: String!) { citizen(idNumber: $id) { name } }", {"id": own}),
        "other": ("query($id: String!) { citizen(idNumber: $id) { name } }", {"id": other}),
        "me": ("{ me { idNumber name matters { totalCount } } }", {}),
        "matters": ("{ matters(filter: {}, first: 3) { totalCount } }", {}),
        "auditTrail": ("query($id: String!) { auditTrail(citizenId: $id) { hasNextPage } }",
                       {"id": own}),
        "trace": ("query($id: String!) { citizen(idNumber: $id) { trace { matters { id } } } }",
                  {"id": own}),
        "region": ('{ region(code: "632300") { name } }', {}),
    }
    query, variables = queries[field]
    body = await onedoor.query(query, token, **variables)
    if outcome == "ok":
        assert "errors" not in body, body["errors"]
        assert all(v is not None for v in body["data"].values())
    else:
        assert outcome in _codes(body)


async def test_a_citizen_sees_their_own_matters_unmasked_across_all_centres(onedoor: OneDoor) -> None:
    own = demo_samples(onedoor.sandbox.world, 1)[0]
    body = await onedoor.query(
        "{ me { idNumber name matters(first: 50) { nodes { centre } } } }",
        onedoor.token("citizen", sub=own))
    me = body["data"]["me"]
    assert me["idNumber"] == own and "*" not in me["name"]
    assert {n["centre"] for n in me["matters"]["nodes"]} == set(READ)


@pytest.mark.parametrize("centre", list(READ))
async def test_each_matter_type_needs_its_centres_scope(onedoor: OneDoor, centre: str) -> None:
    own = demo_samples(onedoor.sandbox.world, 1)[0]
    token = onedoor.token("auditor", scopes=READ[centre])
    body = await onedoor.query(
        "query($id: String!) { citizen(idNumber: $id) { matters(first: 50) { nodes { __typename "
        "links { matter { __typename } } } } } }", token, id=own)
    nodes = body["data"]["citizen"]["matters"]["nodes"]
    typenames = {n["__typename"] for n in nodes} | {
        link["matter"]["__typename"] for n in nodes for link in n["links"]}
    assert typenames == {TYPENAMES[centre]}
    assert sorted(body["extensions"]["omittedCentres"]) == sorted(set(READ) - {centre})


_COUNTIES = sorted(r.code for r in regions.counties())
_PREFECTURES = ["630100", "632300", "650200", "620800", "431300"]


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    region=st.sampled_from(_COUNTIES + _PREFECTURES),
    scopes=st.sets(st.sampled_from(sorted(READ.values())), min_size=1),
    pii=st.booleans(),
    filter_region=st.one_of(st.none(), st.sampled_from(_PREFECTURES + _COUNTIES[:6])),
)
async def test_lists_never_leave_the_jurisdiction_nor_unmask_without_pii(
    onedoor: OneDoor, region: str, scopes: set[str], pii: bool, filter_region: str | None,
) -> None:
    scope = " ".join(sorted(scopes | ({"pii:read"} if pii else set())))
    token = onedoor.token("caseworker", scopes=scope, region=region)
    prefix = regions.canonical_prefix(region)
    filt = f'{{regionPrefix: "{filter_region}"}}' if filter_region else "{}"
    body = await onedoor.query(
        f"{{ matters(filter: {filt}, first: 40) {{ totalCount nodes {{ centre region {{ code }} "
        "parties { kind idNumber name phone } links { matter { region { code } centre } } } } }",
        token)
    assert "errors" not in body, body.get("errors")
    page = body["data"]["matters"]
    allowed = {c for c, s in READ.items() if s in scopes}
    for node in page["nodes"]:
        assert node["region"]["code"].startswith(prefix)
        assert node["centre"] in allowed
        for link in node["links"]:
            assert link["matter"]["region"]["code"].startswith(prefix)
            assert link["matter"]["centre"] in allowed
        for party in node["parties"]:
            if party["kind"] == "PERSON" and not pii:
                assert party["idNumber"] is None or MASKED_ID.match(party["idNumber"])
                assert party["phone"] is None or "****" in party["phone"] or "*" in party["phone"]
                assert "*" in party["name"] or len(party["name"]) <= 1
    # The count is exactly what the centres hold inside the jurisdiction (and filter).
    world = onedoor.sandbox.world
    want = prefix
    if filter_region:
        fp = regions.canonical_prefix(filter_region)
        want = fp if fp.startswith(prefix) else (prefix if prefix.startswith(fp) else "")
    expected = 0 if not want else sum(
        len(world.search(c, prefixes=[want])) for c in Centre if c.value in allowed)
    assert page["totalCount"] == expected
