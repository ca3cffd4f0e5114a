"""Create requests of the three centres whose read modules are already full
(LEGAL_SERVICES, PETITIONS, GOVERNANCE): pure request building plus the one
send; each centre module parses the answer with its own read mapping.

LEGAL_SERVICES and PETITIONS keep no idempotency key, so their creates are sent
once and never retried; the draft's reference travels as an external number
they echo, which is how a lost answer is settled (a search, not a resend).
GOVERNANCE is a GraphQL mutation with a Relay ``clientMutationId``: retried.
A draft's links arrive here already in native form (each centre module maps them
with its own link table); PETITIONS' 关联登记 ``<gldj>`` body is built here too.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any

from onedoor.model import Centre, PartyKind, PartyRecord

from ._common import expect_status
from ._writes import created_json, find_by_reference
from .base import MatterDraft
from .http import CentreClient

__all__ = ["find_by_reference", "gldj_xml", "grid_event_request", "legal_body", "petition_xml",
           "send_grid_event", "send_legal", "send_petition"]

_SERVICE_TYPES = {"LEGAL_AID": "legal_aid", "CONSULTATION": "consultation"}
_PETITION_TYPES = {"SUGGESTION": "JYYJ", "REPORT": "JJKG", "COMPLAINT": "SSQJ"}
_CHANNELS = {"ONLINE": "1", "LETTER": "2", "PHONE": "3", "WINDOW": "5", "GRID_WORKER": "5"}
_NON_DISPUTE = ("安全隐患", "社会治安", "环境卫生")
REPORT_MUTATION = """mutation OneDoorReport($input: ReportGridEventInput!) {
  reportGridEvent(input: $input) { clientMutationId gridEvent { %s } } }"""


def _person(p: PartyRecord) -> dict[str, Any]:
    return {"name": p.name, "id_number": p.id_number, "phone": p.phone,
            "org_code": p.org_code if p.kind is PartyKind.ORGANISATION else None}


def legal_body(draft: MatterDraft, links: Sequence[dict[str, str]] = ()) -> dict[str, Any]:
    """``POST /v1/applications``; ``external_ref`` is echoed, not a key; ``links`` are the
    draft's links already in the native ``{"target_system", "target_id", "type"}`` form."""
    return {"service_type": _SERVICE_TYPES.get(draft.kind or "", "consultation"),
            "subject": draft.title, "case_category": draft.category,
            "region_code": draft.region_code, "description": draft.description,
            "applicant": {**_person(draft.applicant), "address": draft.applicant.address},
            "other_parties": [_person(p) for p in draft.others], "external_ref": draft.reference,
            "links": list(links)}


def _add(parent: ET.Element, tag: str, text: str | None) -> None:
    ET.SubElement(parent, tag).text = text or ""


def gl_element(parent: ET.Element, xt: str, bh: str, lx: str) -> None:
    """One ``<gl>`` (关联): other system, its number, relation."""
    gl = ET.SubElement(parent, "gl")
    for tag, text in (("xt", xt), ("bh", bh), ("lx", lx)):
        _add(gl, tag, text)


def _xml(root: ET.Element) -> bytes:
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>' + body


def petition_xml(draft: MatterDraft, gl: Sequence[tuple[str, str, str]] = ()) -> bytes:
    """``POST /xf/register``: a ``<xfdj>`` registration with ``<wbbh>`` = our reference;
    ``gl`` are the draft's links as native ``(xt, bh, lx)``."""
    root = ET.Element("xfdj")
    add = _add
    fields: tuple[tuple[str, str | None], ...] = (("bt", draft.title), ("xfxs", _CHANNELS.get(draft.channel, "5")),
                      ("xflb", _PETITION_TYPES.get(draft.kind or "", "SSQJ")),
                      ("nrfl", draft.category), ("qhdm", draft.region_code),
                      ("nr", draft.description), ("wbbh", draft.reference))
    for tag, text in fields:
        add(root, tag, text)
    xfr = ET.SubElement(root, "xfr")
    a = draft.applicant
    for tag, value in (("xm", a.name), ("sfzh", a.id_number), ("dh", a.phone), ("dz", a.address)):
        add(xfr, tag, value)
    for other in draft.others:
        bfyr = ET.SubElement(root, "bfyr")
        add(bfyr, "xm", other.name)
        if other.id_number:
            add(bfyr, "sfzh", other.id_number)
    if gl:
        glxx = ET.SubElement(root, "glxx")
        for xt, bh, lx in gl:
            gl_element(glxx, xt, bh, lx)
    return _xml(root)


def gldj_xml(xfbh: str, xt: str, bh: str, lx: str) -> bytes:
    """``POST /xf/gl`` (关联登记): one ``<gl>`` for the existing record ``xfbh``."""
    root = ET.Element("gldj")
    _add(root, "xfbh", xfbh)
    gl_element(root, xt, bh, lx)
    return _xml(root)


def grid_event_request(draft: MatterDraft, fields: str,
                       referrals: Sequence[Mapping[str, str | None]] = ()) -> dict[str, Any]:
    """``reportGridEvent``; ``referrals`` are the draft's links as native ``ReferralInput``s."""
    event_type = draft.kind if draft.kind in _NON_DISPUTE else draft.category
    people = [(draft.applicant, "COMPLAINANT"), *((p, "RESPONDENT") for p in draft.others)]
    return {"query": REPORT_MUTATION % fields, "variables": {"input": {
        "clientMutationId": draft.reference, "title": draft.title, "eventType": event_type,
        "regionCode": draft.region_code, "reporter": "网格员" if draft.channel == "GRID_WORKER"
        else draft.applicant.name, "description": draft.description,
        "parties": [{"name": p.name, "idNumber": p.id_number, "phone": p.phone, "role": role}
                    for p, role in people],
        "referrals": list(referrals)}}}


async def send_legal(http: CentreClient, path: str, draft: MatterDraft,
                     links: Sequence[dict[str, str]] = ()) -> Any:
    async with http.budget():
        response = await http.request("POST", path, json_body=legal_body(draft, links), read_only=False)
    return created_json(Centre.LEGAL_SERVICES, response)


async def send_petition(http: CentreClient, draft: MatterDraft,
                        gl: Sequence[tuple[str, str, str]] = ()) -> bytes:
    async with http.budget():
        response = await http.request(
            "POST", "/xf/register", content=petition_xml(draft, gl), read_only=False,
            headers={"Content-Type": "application/xml; charset=utf-8"})
    expect_status(Centre.PETITIONS, response, 200, 201)
    return response.content


async def send_grid_event(http: CentreClient, path: str, draft: MatterDraft, fields: str,
                          referrals: Sequence[Mapping[str, str | None]] = ()) -> Any:
    async with http.budget():
        response = await http.request("POST", path, json_body=grid_event_request(draft, fields, referrals),
                                      read_only=True)
    return created_json(Centre.GOVERNANCE, response)
