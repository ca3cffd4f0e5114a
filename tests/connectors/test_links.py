"""Transfer links (转办/交办) in every centre's own words: the native codes map to
TRANSFERRED_TO / TRANSFERRED_FROM with the right other centre (pure, on recorded
payloads), creates carry a draft's links natively, and ``add_link`` sends each
centre's own "add a cross-reference" request — retried, since it is idempotent."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from defusedxml.ElementTree import fromstring

from connectors import governance, legal, litigation, mediation, petitions
from connectors._centre_writes import legal_body, petition_xml
from connectors.base import MatterDraft, WritableConnector
from connectors.errors import CentreBadResponse
from connectors.settings import (
    GovernanceSettings,
    LegalSettings,
    LitigationSettings,
    MediationSettings,
    PetitionsSettings,
)
from onedoor.model import Centre, LinkRecord, LinkRelation, MatterRecord, PartyRecord

from .conftest import FAST, payload, raw

TO, FROM = LinkRelation.TRANSFERRED_TO, LinkRelation.TRANSFERRED_FROM
MEDIATION_CASE = payload("mediation_search.json")["items"][0]
LEGAL_APPLICATION = payload("legal_search.json")["data"][0]
COURT_CASE = payload("litigation_search.json")["cases"][0]
GRID_EVENT = payload("governance_search.json")["data"]["gridEvents"]["items"][0]


def _mediation(related: list[dict[str, Any]]) -> MatterRecord:
    return mediation.parse_case({**MEDIATION_CASE, "related": related})


def _legal(links: list[dict[str, Any]]) -> MatterRecord:
    return legal.parse_application({**LEGAL_APPLICATION, "links": links})


def _petition(gl: list[tuple[str, str, str]]) -> MatterRecord:
    text = raw("petitions_item.xml").decode()
    body = "".join(f"<gl><xt>{xt}</xt><bh>{bh}</bh><lx>{lx}</lx></gl>" for xt, bh, lx in gl)
    return petitions.parse_item(re.sub(r"<glxx>.*</glxx>", f"<glxx>{body}</glxx>", text, flags=re.S).encode())


def _court(related: list[dict[str, Any]]) -> MatterRecord:
    return litigation.parse_case({**COURT_CASE, "related": related})


def _grid(referrals: list[dict[str, Any]]) -> MatterRecord:
    return governance.parse_event({**GRID_EVENT, "referrals": referrals})


# The documented vocabulary (sandbox/API.md "Transfer links"), one literal per centre and direction.
RECORDED: list[tuple[Callable[[Any], MatterRecord], Any, LinkRecord]] = [
    (_mediation, [{"system": "XF", "refNo": "XF1", "relation": "TRANSFER_OUT"}],
     LinkRecord(TO, Centre.PETITIONS, "XF1")),
    (_mediation, [{"system": "FLFW", "refNo": "FY1", "relation": "TRANSFER_IN"}],
     LinkRecord(FROM, Centre.LEGAL_SERVICES, "FY1")),
    (_legal, [{"target_system": "mediation", "target_id": "TJ1", "type": "transferred_to"}],
     LinkRecord(TO, Centre.MEDIATION, "TJ1")),
    (_legal, [{"target_system": "grid", "target_id": "WG1", "type": "transferred_from"}],
     LinkRecord(FROM, Centre.GOVERNANCE, "WG1")),
    (_petition, [("FY", "（2025）青2301民初1号", "ZC")], LinkRecord(TO, Centre.LITIGATION, "（2025）青2301民初1号")),
    (_petition, [("TJ", "TJ1", "ZR")], LinkRecord(FROM, Centre.MEDIATION, "TJ1")),
    (_court, [{"kind": "TRANSFER_IN", "ref": "XF1", "system": "PETITION"}], LinkRecord(FROM, Centre.PETITIONS, "XF1")),
    (_court, [{"kind": "TRANSFER_OUT", "ref": "WG1", "system": "GRID"}], LinkRecord(TO, Centre.GOVERNANCE, "WG1")),
    (_grid, [{"kind": "TRANSFER_OUT", "refNo": "TJ1", "system": "MEDIATION"}], LinkRecord(TO, Centre.MEDIATION, "TJ1")),
    (_grid, [{"kind": "TRANSFER_IN", "refNo": "（2025）青2301民初1号", "system": "COURT"}],
     LinkRecord(FROM, Centre.LITIGATION, "（2025）青2301民初1号")),
]


@pytest.mark.parametrize(("parse", "native", "expected"), RECORDED)
def test_native_transfer_codes_map_to_the_unified_relation(
        parse: Callable[[Any], MatterRecord], native: Any, expected: LinkRecord) -> None:
    assert parse(native).links == (expected,)


def test_a_transfer_kind_without_its_system_is_not_guessed() -> None:
    assert _court([{"kind": "TRANSFER_IN", "ref": "XF1"}]).links == ()
    assert _grid([{"kind": "TRANSFER_OUT", "refNo": "TJ1", "system": "MARS"}]).links == ()
    # the older kinds still need no system
    assert _court([{"kind": "LEGAL_AID", "ref": "FY1"}]).links == (
        LinkRecord(LinkRelation.LEGAL_AID, Centre.LEGAL_SERVICES, "FY1"),)


# entry builder, record parser over a list of native entries
ROUND_TRIP: dict[Centre, tuple[Callable[[LinkRecord], Any], Callable[[list[Any]], MatterRecord]]] = {
    Centre.MEDIATION: (mediation.related_entry, _mediation),
    Centre.LEGAL_SERVICES: (legal.link_entry, _legal),
    Centre.PETITIONS: (petitions.gl_entry, _petition),
    Centre.LITIGATION: (litigation.related_entry, _court),
    Centre.GOVERNANCE: (governance.referral_entry, _grid),
}


@pytest.mark.parametrize("centre", list(Centre))
def test_every_transfer_to_every_other_centre_round_trips(centre: Centre) -> None:
    entry, parse = ROUND_TRIP[centre]
    links = [LinkRecord(relation, other, f"N-{other.value}-{relation.value}")
             for other in Centre if other is not centre for relation in (TO, FROM)]
    assert parse([entry(link) for link in links]).links == tuple(links)
    with pytest.raises(ValueError, match="no native form"):
        entry(LinkRecord(TO, centre, "self"))  # a centre never transfers to itself


def _draft(*links: LinkRecord) -> MatterDraft:
    return MatterDraft(reference="YC1", category="劳动争议", title="转办：拖欠工资", description="d",
                       region_code="632301001002",
                       applicant=PartyRecord(role="APPLICANT", name="张三", id_number="632301198001011237"),
                       links=links)


def test_creates_carry_the_drafts_links_natively() -> None:
    back = LinkRecord(FROM, Centre.MEDIATION, "TJ632301202400001")
    assert mediation.create_body(_draft(LinkRecord(FROM, Centre.PETITIONS, "XF1")))["related"] == [
        {"system": "XF", "refNo": "XF1", "relation": "TRANSFER_IN"}]
    assert litigation.create_body(_draft(back))["case"]["related"] == [
        {"kind": "TRANSFER_IN", "ref": "TJ632301202400001", "system": "MEDIATION"}]
    assert legal_body(_draft(back), [legal.link_entry(back)])["links"] == [
        {"target_system": "mediation", "target_id": "TJ632301202400001", "type": "transferred_from"}]
    xml = fromstring(petition_xml(_draft(back), [petitions.gl_entry(back)]))
    assert [(g.findtext("xt"), g.findtext("bh"), g.findtext("lx")) for g in xml.findall("glxx/gl")] == [
        ("TJ", "TJ632301202400001", "ZR")]
    assert mediation.create_body(_draft())["related"] == []
    assert fromstring(petition_xml(_draft())).find("glxx") is None


class Recorder:
    """A centre answering an add-link write with ``answer`` after ``failures`` 503s."""

    def __init__(self, answer: Callable[[httpx.Request], httpx.Response], failures: int = 0) -> None:
        self.answer = answer
        self.failures = failures
        self.writes: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "t", "token_type": "Bearer",
                                             "expires_in": 3600, "scope": "legal.read legal.write"})
        request.read()
        self.writes.append(request)
        if len(self.writes) <= self.failures:
            return httpx.Response(503)
        return self.answer(request)


def _connector(centre: Centre, transport: httpx.MockTransport) -> WritableConnector:
    base = f"http://{centre.value.lower()}.test"
    built: dict[Centre, Callable[[], Any]] = {
        Centre.MEDIATION: lambda: mediation.MediationConnector(MediationSettings(base_url=base), FAST,
                                                                transport=transport),
        Centre.LEGAL_SERVICES: lambda: legal.LegalConnector(
            LegalSettings(base_url=base, token_url="http://idp.test/oauth/token"), FAST, transport=transport),
        Centre.PETITIONS: lambda: petitions.PetitionsConnector(PetitionsSettings(base_url=base), FAST,
                                                                transport=transport),
        Centre.LITIGATION: lambda: litigation.LitigationConnector(LitigationSettings(base_url=base), FAST,
                                                                   transport=transport),
        Centre.GOVERNANCE: lambda: governance.GovernanceConnector(GovernanceSettings(base_url=base), FAST,
                                                                   transport=transport),
    }
    connector = built[centre]()
    assert isinstance(connector, WritableConnector)
    return connector


def _json(request: httpx.Request) -> Any:
    return json.loads(request.content)


def _answer_with_the_record(centre: Centre, link: LinkRecord) -> Callable[[httpx.Request], httpx.Response]:
    """The centre's own answer: the record with the entry it was sent appended."""
    def answer(request: httpx.Request) -> httpx.Response:
        if centre is Centre.MEDIATION:
            return httpx.Response(201, json={**MEDIATION_CASE, "related": [_json(request)]})
        if centre is Centre.LEGAL_SERVICES:
            return httpx.Response(201, json={**LEGAL_APPLICATION, "links": [_json(request)]})
        if centre is Centre.LITIGATION:
            return httpx.Response(200, json={**COURT_CASE, "related": [_json(request)["related"]]})
        if centre is Centre.GOVERNANCE:
            referral = {k: v for k, v in _json(request)["variables"]["input"].items() if k != "eventNo"}
            return httpx.Response(200, json={"data": {"addReferral": {"gridEvent": {
                **GRID_EVENT, "referrals": [referral]}}}})
        gl = fromstring(request.content).find("gl")
        assert gl is not None
        xml = raw("petitions_item.xml").decode()
        native = "".join(f"<{t}>{gl.findtext(t)}</{t}>" for t in ("xt", "bh", "lx"))
        return httpx.Response(201, content=re.sub(r"<glxx>.*</glxx>", f"<glxx><gl>{native}</gl></glxx>",
                                                  xml, flags=re.S).encode())
    return answer


# what each centre must receive for LINK on record ID
LINK = LinkRecord(TO, Centre.LITIGATION, "（2025）青2301民初7号")
OTHER = {Centre.LITIGATION: LinkRecord(TO, Centre.MEDIATION, "TJ632301202500009")}
ID = {Centre.MEDIATION: "TJ632301202400001", Centre.LEGAL_SERVICES: "FY2024632301000123",
      Centre.PETITIONS: "XF6323012024000123", Centre.LITIGATION: "（2024）青2301民初12号",
      Centre.GOVERNANCE: "WG6323012024000123"}


def _sent(centre: Centre, request: httpx.Request) -> tuple[str, str, Any]:
    """(method, decoded path, native body) of the write a centre received."""
    path = unquote(request.url.raw_path.decode())
    if centre is Centre.PETITIONS:
        root = fromstring(request.content)
        gl = root.find("gl")
        assert root.tag == "gldj" and gl is not None
        body: Any = (root.findtext("xfbh"), gl.findtext("xt"), gl.findtext("bh"), gl.findtext("lx"))
    else:
        body = _json(request)
    return request.method, path, body


EXPECTED: dict[Centre, tuple[str, str, Any]] = {
    Centre.MEDIATION: ("POST", "/api/cases/TJ632301202400001/related",
                       {"system": "COURT", "refNo": "（2025）青2301民初7号", "relation": "TRANSFER_OUT"}),
    Centre.LEGAL_SERVICES: ("POST", "/v1/applications/FY2024632301000123/links",
                            {"target_system": "court", "target_id": "（2025）青2301民初7号",
                             "type": "transferred_to"}),
    Centre.PETITIONS: ("POST", "/xf/gl", ("XF6323012024000123", "FY", "（2025）青2301民初7号", "ZC")),
    Centre.LITIGATION: ("POST", "/cases/（2024）青2301民初12号:addRelated",
                        {"related": {"kind": "TRANSFER_OUT", "ref": "TJ632301202500009", "system": "MEDIATION"}}),
    Centre.GOVERNANCE: ("POST", "/graphql", None),  # checked on its variables below
}


@pytest.mark.parametrize("centre", list(Centre))
async def test_add_link_sends_the_native_write_and_retries_it(centre: Centre) -> None:
    link = OTHER.get(centre, LINK)
    recorder = Recorder(_answer_with_the_record(centre, link), failures=1)
    connector = _connector(centre, httpx.MockTransport(recorder))
    try:
        record = await connector.add_link(ID[centre], link)
    finally:
        await connector.aclose()  # type: ignore[attr-defined]
    assert len(recorder.writes) == 2  # a 503 is retried: the write is idempotent at the centre
    first, second = (_sent(centre, r) for r in recorder.writes)
    assert first == second
    method, path, body = first
    want_method, want_path, want_body = EXPECTED[centre]
    assert (method, path) == (want_method, want_path)
    if centre is Centre.GOVERNANCE:
        assert "addReferral" in body["query"]
        assert body["variables"]["input"] == {"eventNo": ID[centre], "kind": "TRANSFER_OUT",
                                              "refNo": "（2025）青2301民初7号", "system": "COURT"}
    else:
        assert body == want_body
    if centre is Centre.LEGAL_SERVICES:
        assert recorder.writes[0].headers["Authorization"] == "Bearer t"
    if centre is Centre.LITIGATION:
        assert recorder.writes[0].headers["X-Client-Id"]
    assert record.centre is centre and link in record.links


NOT_FOUND: dict[Centre, Callable[[httpx.Request], httpx.Response]] = {
    Centre.MEDIATION: lambda r: httpx.Response(404, json={"code": "NOT_FOUND"}),
    Centre.LEGAL_SERVICES: lambda r: httpx.Response(404, json={"error": "not_found"}),
    Centre.PETITIONS: lambda r: httpx.Response(404, content=b"<error><code>NOT_FOUND</code></error>"),
    Centre.LITIGATION: lambda r: httpx.Response(404, json={"error": {"code": 404, "status": "NOT_FOUND"}}),
    Centre.GOVERNANCE: lambda r: httpx.Response(200, json={"data": {"addReferral": {"gridEvent": None}}}),
}


@pytest.mark.parametrize("centre", list(Centre))
async def test_add_link_to_an_unknown_record_is_a_bad_response(centre: Centre) -> None:
    recorder = Recorder(NOT_FOUND[centre])
    connector = _connector(centre, httpx.MockTransport(recorder))
    try:
        with pytest.raises(CentreBadResponse):
            await connector.add_link(ID[centre], OTHER.get(centre, LINK))
    finally:
        await connector.aclose()  # type: ignore[attr-defined]
    assert len(recorder.writes) == 1  # an answer, not a failure: nothing to retry



def test_a_lawsuit_after_a_failed_mediation_has_its_own_relation() -> None:
    """调解不成起诉 is neither an escalation to a petition nor a judicial confirmation."""
    number = "（2025）青2301民初9号"
    sued = _mediation([{"system": "COURT", "refNo": number, "relation": "LAWSUIT"}])
    assert sued.links == (LinkRecord(LinkRelation.LITIGATED_AS, Centre.LITIGATION, number),)
    assert _court([{"kind": "FAILED_MEDIATION", "ref": "TJ1"}]).links == (
        LinkRecord(LinkRelation.LITIGATED_FROM, Centre.MEDIATION, "TJ1"),)
    assert mediation.related_entry(sued.links[0]) == {"system": "COURT", "refNo": number, "relation": "LAWSUIT"}
