"""Security point 3 over the real centres: a whistle-blower the PETITIONS sandbox
marks confidential (``<jm>1</jm>``) is looked up through ``citizen``; their report
is reached only with ``petitions:confidential`` or through ``me``, and the
reporter is never shown in clear."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

import httpx
import pytest

from onedoor.identifiers import normalise_resident_id
from onedoor.model import Centre
from policy.personas import PERSONAS
from schema.ids import encode_id

from .conftest import OneDoor

pytestmark = pytest.mark.asyncio(loop_scope="module")

MATTERS = """query($id: String!) { citizen(idNumber: $id) { name
  matters(first: 100) { nodes { id parties { name } } }
  timeline(first: 100) { matter { id } } } }"""


async def _whistleblower(od: OneDoor) -> tuple[str, str]:
    """(resident ID, global id of their confidential report)."""
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{od.sandbox.urls[Centre.PETITIONS]}/xf/query",
                                  params={"lb": "JJKG", "rows": 50})
    for item in ElementTree.fromstring(response.content).findall("xfjl"):
        raw = item.findtext("xfr/sfzh")
        if item.findtext("xfr/jm") == "1" and raw:
            return normalise_resident_id(raw), encode_id(Centre.PETITIONS, item.findtext("xfbh") or "")
    raise AssertionError("the sandbox has no confidential report")


def _ids(body: dict[str, Any]) -> set[str]:
    citizen = body["data"]["citizen"] or {}
    nodes = (citizen.get("matters") or {}).get("nodes", [])
    return {n["id"] for n in nodes} | {e["matter"]["id"] for e in citizen.get("timeline") or []}


async def test_a_report_is_not_reached_through_its_reporter(onedoor: OneDoor) -> None:
    reporter, report = await _whistleblower(onedoor)
    for persona in ("auditor", "portal"):
        body = await onedoor.query(MATTERS, onedoor.token(persona), id=reporter)
        assert "errors" not in body, body.get("errors")
        assert report not in _ids(body), persona


async def test_the_confidential_scope_reaches_it_with_the_reporter_masked(onedoor: OneDoor) -> None:
    reporter, report = await _whistleblower(onedoor)
    scopes = " ".join((*PERSONAS["auditor"].scopes, "petitions:confidential"))
    body = await onedoor.query(MATTERS, onedoor.token("auditor", scopes=scopes), id=reporter)
    assert "errors" not in body, body.get("errors")
    assert report in _ids(body)
    assert "*" in body["data"]["citizen"]["name"]
    node = next(n for n in body["data"]["citizen"]["matters"]["nodes"] if n["id"] == report)
    assert "*" in node["parties"][0]["name"]
    records, _ = await onedoor.audit.query(reporter)
    assert any(d.reason == "confidential_record" and d.effect == "allow"
               for r in records for d in r.decisions)


async def test_the_reporter_sees_it_through_me(onedoor: OneDoor) -> None:
    reporter, report = await _whistleblower(onedoor)
    body = await onedoor.query("{ me { matters(first: 100) { nodes { id } } } }",
                               onedoor.token("citizen", sub=reporter))
    assert "errors" not in body, body.get("errors")
    assert report in {n["id"] for n in body["data"]["me"]["matters"]["nodes"]}
