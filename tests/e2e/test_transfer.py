"""Issue 5, transfer (转办/交办) end to end over real sandbox sockets: the link exists at
both ends, each in its centre's own native form, a retry changes nothing, and a
source centre that is down when the transfer happens gets its link later."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from onedoor.identifiers import make_resident_id
from onedoor.model import Centre
from sandbox.client import set_fault
from sandbox.people import village_table
from schema.ids import decode_id, encode_id

from .filing_harness import Gateway, start_gateway

pytestmark = pytest.mark.asyncio(loop_scope="module")
VILLAGE = next(c for c in village_table()[0] if c.startswith("632322"))
SUBMIT = """mutation F($input: SubmitMatterInput!, $key: String!) {
  submitMatter(input: $input, idempotencyKey: $key) { receipt centre matter { id } } }"""
TRANSFER = """mutation X($id: ID!, $to: Centre!, $why: String!) {
  transferMatter(id: $id, toCentre: $to, reason: $why) {
    receipt centre replayed matter { id centre links { relation centre matter { id } } } } }"""
MATTER = "query M($id: ID!) { matter(id: $id) { id links { relation centre matter { id } } } }"
# a category that the triage rules send to the centre (for sources filed here)
ROUTED = {Centre.MEDIATION: "劳动争议", Centre.PETITIONS: "申诉求决"}
# the native form each centre stores a transfer-out link in (sandbox/API.md)
OUT = {Centre.MEDIATION: ("relation", "TRANSFER_OUT"), Centre.LEGAL_SERVICES: ("type", "transferred_to"),
       Centre.PETITIONS: ("lx", "ZC"), Centre.LITIGATION: ("kind", "TRANSFER_OUT"),
       Centre.GOVERNANCE: ("kind", "TRANSFER_OUT")}


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def gw(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Gateway]:
    async with start_gateway(tmp_path_factory.mktemp("transfer")) as gateway:
        yield gateway


def resident(n: int) -> str:
    return make_resident_id("632322", dt.date(1982, 7, 1), 300 + n)


async def filed_source(gw: Gateway, centre: Centre, n: int) -> str:
    """A matter created at ``centre`` through submitMatter (the write overlay)."""
    body = await gw.query(SUBMIT, gw.token("caseworker"), key=f"transfer-source-{n}", input={
        "applicants": [{"name": "才让", "idNumber": resident(n), "phone": "13912345678"}],
        "otherParties": [{"name": "某建筑工程有限公司"}], "category": ROUTED[centre],
        "subject": "劳动争议", "regionCode": VILLAGE, "description": "工地拖欠三个月工资", "channel": "WINDOW"})
    assert "errors" not in body, body
    assert body["data"]["submitMatter"]["centre"] == centre.value
    return str(body["data"]["submitMatter"]["matter"]["id"])


def generated_source(gw: Gateway, centre: Centre) -> str:
    """A matter of the generated world in the caseworker's county."""
    row = int(gw.sandbox.world.search(centre, prefixes=["632322"])[0])
    return encode_id(centre, gw.sandbox.world.native_id(row))


def links(matter: dict[str, Any], relation: str) -> list[str]:
    return [link["matter"]["id"] for link in matter["links"] if link["relation"] == relation]


def native_out_links(gw: Gateway, global_id: str) -> list[dict[str, Any]]:
    """Transfer-out links the source centre itself holds for the record (its own store)."""
    assert gw.sandbox.writes is not None
    centre, native_id = decode_id(global_id)
    field, code = OUT[centre]
    return [x for x in gw.sandbox.writes.links.get((centre, native_id), []) if x.get(field) == code]


PAIRS = [  # every centre once as source and once as target; JSON and XML centres both ways
    ("filed", Centre.MEDIATION, Centre.PETITIONS),
    ("filed", Centre.PETITIONS, Centre.LITIGATION),
    ("generated", Centre.LITIGATION, Centre.GOVERNANCE),
    ("generated", Centre.GOVERNANCE, Centre.LEGAL_SERVICES),
    ("generated", Centre.LEGAL_SERVICES, Centre.MEDIATION),
]


@pytest.mark.parametrize(("origin", "source_centre", "target"), PAIRS)
async def test_transfer_links_both_ends_once(
        gw: Gateway, origin: str, source_centre: Centre, target: Centre) -> None:
    token = gw.token("caseworker")
    n = 10 + list(Centre).index(source_centre)
    source_id = await filed_source(gw, source_centre, n) if origin == "filed" else generated_source(
        gw, source_centre)
    before = gw.created(target)

    moved = await gw.query(TRANSFER, token, id=source_id, to=target.value, why="依职责转办")
    assert "errors" not in moved, moved
    payload = moved["data"]["transferMatter"]
    new_id = payload["matter"]["id"]
    assert payload["centre"] == target.value and not payload["replayed"]
    assert links(payload["matter"], "TRANSFERRED_FROM") == [source_id]
    source = (await gw.query(MATTER, token, id=source_id))["data"]["matter"]
    assert links(source, "TRANSFERRED_TO") == [new_id]
    stored = await gw.store.by_receipt(payload["receipt"])
    assert stored is not None and stored.state == "done"

    again = await gw.query(TRANSFER, token, id=source_id, to=target.value, why="依职责转办")
    assert "errors" not in again, again
    replay = again["data"]["transferMatter"]
    assert replay["receipt"] == payload["receipt"] and replay["replayed"]
    assert links(replay["matter"], "TRANSFERRED_FROM") == [source_id]
    target_now = (await gw.query(MATTER, token, id=new_id))["data"]["matter"]
    assert links(target_now, "TRANSFERRED_FROM") == [source_id]  # one link at the new end
    source_now = (await gw.query(MATTER, token, id=source_id))["data"]["matter"]
    assert links(source_now, "TRANSFERRED_TO") == [new_id]  # one at the source end
    assert len(native_out_links(gw, source_id)) == 1  # and the centre stored it once
    assert gw.created(target) == before + 1


async def test_source_centre_down_then_the_link_is_written_later(gw: Gateway) -> None:
    token = gw.token("caseworker")
    source_id = await filed_source(gw, Centre.MEDIATION, 30)
    read = await gw.query(MATTER, token, id=source_id)  # the gateway has just read the source
    assert read["data"]["matter"]["id"] == source_id
    _, source_native = decode_id(source_id)
    url = gw.sandbox.urls[Centre.MEDIATION]
    before = gw.created(Centre.PETITIONS)
    with gw.clock.held():  # ... so its cached copy serves the transfer while the centre is down
        assert gw.cache.get(Centre.MEDIATION, source_native) is not None
        await set_fault(url, "down")
        try:
            moved = await gw.query(TRANSFER, token, id=source_id, to="PETITIONS", why="转信访部门办理")
        finally:
            await set_fault(url, "ok")
    payload = moved["data"]["transferMatter"]
    (error,) = moved["errors"]
    assert error["path"] == ["transferMatter"]
    assert error["extensions"] == {"code": "CENTRE_UNAVAILABLE", "centre": "MEDIATION", "pending": "SOURCE_LINK"}
    assert " / " in error["message"]
    assert gw.created(Centre.PETITIONS) == before + 1  # the new matter exists ...
    assert [link["relation"] for link in payload["matter"]["links"]] == ["TRANSFERRED_FROM"]
    stored = await gw.store.by_receipt(payload["receipt"])
    assert stored is not None and stored.state == "created"  # ... but the row is not done
    assert native_out_links(gw, source_id) == []
    records, _ = await gw.audit.query(resident(30))
    assert any(r.outcome == "partial" and any(d.reason == "link:CENTRE_UNAVAILABLE" for d in r.decisions)
               for r in records if r.operation_name == "transferMatter")

    assert await gw.service.reconcile() >= 1  # the next pass, the centre back up
    done = await gw.store.by_receipt(payload["receipt"])
    assert done is not None and done.state == "done"
    (native,) = native_out_links(gw, source_id)
    assert native == {"system": "XF", "refNo": done.native_id, "relation": "TRANSFER_OUT"}
    source = (await gw.query(MATTER, token, id=source_id))["data"]["matter"]
    assert links(source, "TRANSFERRED_TO") == [payload["matter"]["id"]]
    records, _ = await gw.audit.query(resident(30))
    assert any(r.outcome == "reconciled" and any(d.reason == "link:TRANSFERRED_TO" for d in r.decisions)
               for r in records if r.operation_name == "transferMatter")

    again = await gw.query(TRANSFER, token, id=source_id, to="PETITIONS", why="转信访部门办理")
    assert "errors" not in again and again["data"]["transferMatter"]["receipt"] == payload["receipt"]
    assert gw.created(Centre.PETITIONS) == before + 1 and len(native_out_links(gw, source_id)) == 1
