"""``riskAlerts``: the governance centre's 风险预警 through OneDoor, inside the
caller's jurisdiction, over the real sandbox subgraph."""

from __future__ import annotations

import pytest

from onedoor.model import Centre
from sandbox.client import set_fault

from .conftest import OneDoor

pytestmark = pytest.mark.asyncio(loop_scope="module")

WARNINGS = """query($r: String!) { riskAlerts(regionCode: $r, first: 50) {
  warningNo level summary raisedAt region { code name } } }"""


async def test_an_analyst_sees_the_warnings_of_a_region_newest_first(onedoor: OneDoor) -> None:
    body = await onedoor.query(WARNINGS, onedoor.token("analyst"), r="632300")
    warnings = body["data"]["riskAlerts"]
    assert warnings and "errors" not in body
    assert all(w["region"]["code"].startswith("6323") for w in warnings)
    assert {w["level"] for w in warnings} <= {"RED", "ORANGE", "YELLOW", "BLUE"}
    stamps = [w["raisedAt"] for w in warnings]
    assert stamps == sorted(stamps, reverse=True)


async def test_a_region_outside_the_callers_jurisdiction_is_refused(onedoor: OneDoor) -> None:
    body = await onedoor.query(WARNINGS, onedoor.token("caseworker"), r="650200")  # Huangnan's caseworker
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]


async def test_without_a_scope_for_it_the_field_is_refused(onedoor: OneDoor) -> None:
    body = await onedoor.query(WARNINGS, onedoor.token("caseworker", scopes="mediation:read"), r="632300")
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHORIZED_FIELD_OR_TYPE"]


async def test_the_centre_down_is_a_centre_error(onedoor: OneDoor) -> None:
    url = onedoor.sandbox.urls[Centre.GOVERNANCE]
    await set_fault(url, "down", rate=1.0)
    try:
        body = await onedoor.query(WARNINGS, onedoor.token("analyst"), r="632300")
    finally:
        await set_fault(url, "ok", rate=1.0)
    assert [(e["extensions"]["code"], e["extensions"]["centre"]) for e in body["errors"]] == [
        ("CENTRE_UNAVAILABLE", "GOVERNANCE")]
