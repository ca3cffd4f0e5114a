"""Security point 3, issue 13 and security point 6: protected persons through the
citizen view, a citizen without (or beyond) the resident register, and an
out-of-jurisdiction answer that costs the same centre calls as a made-up ID.

The centres are in memory and count their calls (``tests/schema/fakes.py``).
A whistle-blower (``WB``) filed a confidential 检举控告 report ``P-R1`` against
``ACCUSED``; their own mediation ``M-W1`` escalated into it. ``MINOR`` has a
community-correction file ``L-MIN1`` (社区矫正法 Art.54).
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path
from types import MappingProxyType
from typing import Any

from connectors.errors import CentreUnavailable
from onedoor.identifiers import make_resident_id
from onedoor.model import (
    Centre,
    LinkRecord,
    LinkRelation,
    MatterRecord,
    PartyRecord,
    ResidentRecord,
)
from policy.disclosure import CONFIDENTIAL_SCOPE
from policy.masking import mask_id_number
from policy.personas import PERSONAS
from policy.principal import Principal
from schema import RequestContext, build_schema
from schema.ids import encode_id
from schema.loaders import Loaders
from services.audit import open_audit_store
from tests.gateway.harness import client
from tests.schema.fakes import FakeCentre, at, record

M, LEG, P, LIT, G = (Centre.MEDIATION, Centre.LEGAL_SERVICES, Centre.PETITIONS,
                     Centre.LITIGATION, Centre.GOVERNANCE)
HUANGNAN = "632301001001"
KARAMAY = "650203001001"

WB = make_resident_id("632301", dt.date(1985, 6, 1), 11)
ACCUSED = make_resident_id("632301", dt.date(1970, 2, 2), 21)
MINOR = make_resident_id("632301", dt.date(2010, 9, 9), 31)
BOB = make_resident_id("650203", dt.date(1975, 5, 5), 41)  # lives in Karamay
NOBASE = make_resident_id("632301", dt.date(1990, 3, 3), 51)  # not in the register
MADE_UP = make_resident_id("650203", dt.date(1979, 7, 7), 61)  # nobody at all

READ = frozenset(PERSONAS["caseworker"].scopes) - {"pii:read", "matters:write"}
SCHEMA = build_schema()


def _report() -> MatterRecord:
    return MatterRecord(
        centre=P, native_id="P-R1", reference="P-R1", category="其他", title="检举某干部",
        status=record(P, "x", at=at(1)).status, centre_status="受理", region_code=HUANGNAN,
        received_at=at(5),
        parties=(PartyRecord("PETITIONER", "王举报", id_number=WB, phone="13900001111",
                             address="青海省黄南藏族自治州同仁市隆务镇夏琼路12号"),
                 PartyRecord("RESPONDENT", "赵被告", id_number=ACCUSED)),
        links=(LinkRecord(LinkRelation.ESCALATED_FROM, M, "M-W1"),),
        extra=MappingProxyType({"petition_type": "REPORT", "channel": "LETTER",
                                "whistleblower_flags": (True, False)}),
    )


def _correction() -> MatterRecord:
    base = record(LEG, "L-MIN1", at=at(6), party=MINOR)
    return MatterRecord(
        centre=LEG, native_id="L-MIN1", reference="L-MIN1", category="其他", title="社区矫正",
        status=base.status, centre_status="在矫", region_code=HUANGNAN, received_at=at(6),
        parties=(PartyRecord("APPLICANT", "李小明", id_number=MINOR, phone="13700002222"),),
        extra=MappingProxyType({"service_type": "COMMUNITY_CORRECTION", "is_minor": True}),
    )


def _centres() -> dict[Centre, FakeCentre]:
    return {
        G: FakeCentre(G, [record(G, "G-N1", at=at(2), party=NOBASE)], residents=[
            ResidentRecord(WB, "王举报", "13900001111", "青海省同仁市某镇某村2号", HUANGNAN),
            ResidentRecord(ACCUSED, "赵被告", None, None, HUANGNAN),
            ResidentRecord(MINOR, "李小明", "13700002222", "青海省同仁市某镇某村3号", HUANGNAN),
            ResidentRecord(BOB, "李四", "13912345678", "克拉玛依区某街道", KARAMAY),
        ]),
        M: FakeCentre(M, [
            record(M, "M-W1", at=at(3), party=WB,
                   links=[LinkRecord(LinkRelation.ESCALATED_TO, P, "P-R1")]),
            record(M, "M-N1", at=at(4), party=NOBASE),
            record(M, "M-B1", at=at(4), party=BOB, region=KARAMAY),
        ]),
        LEG: FakeCentre(LEG, [_correction()]),
        P: FakeCentre(P, [_report()]),
        LIT: FakeCentre(LIT, []),
    }


def _principal(scopes: frozenset[str], regions: tuple[str, ...] = ("6323",), *,
               citizen: str | None = None) -> Principal:
    return Principal(sub=citizen or "u1", client_id="c", scopes=scopes, regions=regions,
                     citizen_id=citizen, authenticated=True)


CASEWORKER = _principal(READ | {"pii:read"})
PORTAL = _principal(READ, ("63", "6502"))
AUDITOR = _principal(READ | {"pii:read", "audit:read"}, ("63", "6502"))
HANDLER = _principal(READ | {"pii:read", "audit:read", CONFIDENTIAL_SCOPE})


async def _run(query: str, principal: Principal, centres: dict[Centre, FakeCentre] | None = None,
               **variables: Any) -> Any:
    centres = centres if centres is not None else _centres()
    ctx = RequestContext(principal=principal, connectors=centres, loaders=Loaders(centres),
                         request_id="t")
    return await SCHEMA.execute(query, variable_values=variables, context_value=ctx)


EVERYTHING = """
query($id: String!) { citizen(idNumber: $id) { idNumber name phone address
  matters(first: 50) { totalCount nodes { reference ... on Petition { petitionType }
    parties { name idNumber } links { matter { reference } } } }
  timeline { action matter { reference } }
  trace { matters { reference } links { target { reference } } } } }
"""


def _references(data: Any) -> set[str]:
    text = json.dumps(data, ensure_ascii=False)
    return {ref for ref in ("P-R1", "L-MIN1", "M-W1", "M-N1", "G-N1") if ref in text}


# ---- security point 3: protected persons -------------------------------------------


async def test_a_whistleblowers_report_is_not_reached_through_them_by_a_caseworker() -> None:
    result = await _run(EVERYTHING, AUDITOR, id=WB)
    assert result.errors is None
    citizen = result.data["citizen"]
    # An ordinary resident's view: nothing tells that they are protected anywhere…
    assert citizen["name"] == "王举报"
    # …and the report is neither listed, nor on the timeline, nor in the trace,
    # nor reached through the link from their own mediation.
    assert _references(result.data) == {"M-W1"}
    assert "REPORT" not in json.dumps(result.data)
    assert citizen["matters"]["totalCount"] == 1


async def test_the_portal_persona_does_not_reach_the_report_either() -> None:
    query = EVERYTHING.replace("trace { matters { reference } links { target { reference } } }", "")
    result = await _run(query, PORTAL, id=WB)
    assert result.errors is None
    assert _references(result.data) == {"M-W1"}
    assert result.data["citizen"]["name"] == "王**"


async def test_the_reporter_is_masked_in_the_report_whatever_the_scopes() -> None:
    query = """query($id: ID!) { matter(id: $id) { parties { name idNumber phone address } } }"""
    for principal in (CASEWORKER, HANDLER, PORTAL):
        result = await _run(query, principal, id=encode_id(P, "P-R1"))
        assert result.errors is None
        reporter, accused = result.data["matter"]["parties"]
        assert reporter["name"] == "王**" and reporter["idNumber"] == mask_id_number(WB)
        assert reporter["phone"] == "139****1111" and "夏琼路" not in reporter["address"]
        assert ("*" not in accused["name"]) is principal.has("pii:read")


async def test_a_minor_is_masked_and_their_correction_file_not_reached_through_them() -> None:
    result = await _run(EVERYTHING, AUDITOR, id=MINOR)
    assert result.errors is None
    citizen = result.data["citizen"]
    assert citizen["name"] == "李**" and citizen["idNumber"] == mask_id_number(MINOR)
    assert citizen["phone"] == "137****2222"
    assert "L-MIN1" not in _references(result.data)
    # Through its own id the file is served, the minor masked even with pii:read.
    found = await _run('query($id: ID!) { matter(id: $id) { parties { name idNumber } } }',
                       HANDLER, id=encode_id(LEG, "L-MIN1"))
    assert found.data["matter"]["parties"] == [{"name": "李**", "idNumber": mask_id_number(MINOR)}]


async def test_a_confidential_scope_reaches_the_report_masked_and_the_reach_is_audited() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = await open_audit_store(f"sqlite:///{Path(tmp) / 'a.sqlite'}")
        try:
            async with client(_centres(), {"h": HANDLER, "c": CASEWORKER}, audit=store) as http:
                response = await http.post("/graphql", json={
                    "query": EVERYTHING, "variables": {"id": WB}},
                    headers={"Authorization": "Bearer h"})
                body = response.json()
                assert "errors" not in body, body
                citizen = body["data"]["citizen"]
                assert {"P-R1", "M-W1"} <= _references(body["data"])
                # Protected in a record this caller reaches: the citizen view masks them too.
                assert citizen["name"] == "王**" and citizen["idNumber"] == mask_id_number(WB)
                report = next(n for n in citizen["matters"]["nodes"] if n["reference"] == "P-R1")
                assert report["petitionType"] == "REPORT"
                assert report["parties"][0]["name"] == "王**"
                await http.post("/graphql", json={"query": EVERYTHING, "variables": {"id": WB}},
                                headers={"Authorization": "Bearer c"})
            records, _ = await store.query(WB)
            handler, caseworker = sorted(records, key=lambda r: r.seq)
            reached = [d for d in handler.decisions if d.reason == "confidential_record"]
            assert reached and all(d.effect == "allow" and d.centre == "PETITIONS" for d in reached)
            assert {d.field for d in reached} >= {"citizen.matters"}
            assert not [d for d in caseworker.decisions if d.reason == "confidential_record"]
        finally:
            await store.aclose()


async def test_the_reporter_sees_their_report_through_me() -> None:
    me = _principal(frozenset({"citizen:self"}), (), citizen=WB)
    result = await _run("{ me { name matters { nodes { reference parties { name } } } } }", me)
    assert result.errors is None
    data = result.data["me"]
    assert data["name"] == "王举报"  # their own register entry
    nodes = {n["reference"]: n for n in data["matters"]["nodes"]}
    assert set(nodes) == {"M-W1", "P-R1"}
    assert nodes["P-R1"]["parties"][0]["name"] == "王**"  # never unmasked in the report


async def test_the_accused_does_not_reach_the_report_through_their_own_identity() -> None:
    result = await _run(EVERYTHING, AUDITOR, id=ACCUSED)
    assert result.errors is None
    assert result.data["citizen"]["matters"]["totalCount"] == 0
    assert "P-R1" not in _references(result.data)


async def test_a_grid_workers_name_is_disclosed_like_any_name() -> None:
    event = record(G, "G-R1", at=at(2), party=ACCUSED)
    event = MatterRecord(**{**{f: getattr(event, f) for f in event.__dataclass_fields__},
                            "extra": MappingProxyType({"reporter": "孙网格"})})
    centres = _centres()
    centres[G].records.append(event)
    query = 'query($id: ID!) { matter(id: $id) { ... on GridEvent { reporter } } }'
    masked = await _run(query, PORTAL, centres, id=encode_id(G, "G-R1"))
    clear = await _run(query, CASEWORKER, centres, id=encode_id(G, "G-R1"))
    assert masked.data["matter"]["reporter"] == "孙**"
    assert clear.data["matter"]["reporter"] == "孙网格"


# ---- issue 13: the register does not gate the answer --------------------------------


async def test_with_governance_down_the_other_centres_still_answer() -> None:
    centres = _centres()
    centres[G].fail = CentreUnavailable(G, detail="connection refused")
    query = ('query($id: String!) { citizen(idNumber: $id) { idNumber name phone address region { code } '
             'matters { nodes { reference } } } }')
    result = await _run(query, CASEWORKER, centres, id=WB)
    citizen = result.data["citizen"]
    assert citizen["idNumber"] == WB
    assert citizen["name"] is None and citizen["phone"] is None and citizen["region"] is None
    assert [n["reference"] for n in citizen["matters"]["nodes"]] == ["M-W1"]
    errors = [e.extensions for e in result.errors or []]
    assert {"code": "CENTRE_UNAVAILABLE", "centre": "GOVERNANCE"} in errors


async def test_a_person_missing_from_the_register_is_a_citizen_through_their_matters() -> None:
    query = 'query($id: String!) { citizen(idNumber: $id) { idNumber name matters { totalCount } } }'
    result = await _run(query, CASEWORKER, id=NOBASE)
    assert result.errors is None
    assert result.data["citizen"] == {"idNumber": NOBASE, "name": None,
                                      "matters": {"totalCount": 2}}
    # Jurisdiction follows the matters' regions: a caseworker in Karamay sees nobody.
    elsewhere = _principal(READ | {"pii:read"}, ("6502",))
    assert (await _run(query, elsewhere, id=NOBASE)).data["citizen"] is None


async def test_without_governance_read_the_register_is_not_called_and_is_named() -> None:
    centres = _centres()
    mediator = _principal(frozenset({"mediation:read", "pii:read"}))
    centres_q = 'query($id: String!) { citizen(idNumber: $id) { name matters { totalCount } } }'
    result = await _run(centres_q, mediator, centres, id=WB)
    assert result.errors is None
    assert result.data["citizen"] == {"name": None, "matters": {"totalCount": 1}}
    assert centres[G].calls["get_residents"] == 0
    assert "GOVERNANCE" in result.extensions["omittedCentres"]


# ---- security point 6: no timing oracle on jurisdiction ------------------------------


async def test_a_resident_elsewhere_and_a_made_up_id_cost_the_same_calls() -> None:
    for query in ('query($id: String!) { citizen(idNumber: $id) { name } }',
                  'query($id: String!) { citizen(idNumber: $id) { name matters { totalCount } } }'):
        calls = []
        for person in (BOB, MADE_UP):
            centres = _centres()
            result = await _run(query, CASEWORKER, centres, id=person)
            assert result.errors is None and result.data["citizen"] is None
            calls.append({c.value: dict(f.calls) for c, f in centres.items()})
        real, made_up = calls
        assert real == made_up
        assert sum(n for per in real.values() for n in per.values()) == 6  # register + 5 centres
