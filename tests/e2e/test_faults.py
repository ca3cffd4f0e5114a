"""Each fault mode of each centre, injected at the real sandbox: the failing
centre's part is null or left out with its stable code, the rest of the answer
is there, and nothing from the backend leaks into the response."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from connectors.settings import BreakerSettings, CallPolicy, Retries, Timeouts
from gateway.demo import demo_samples
from onedoor.model import Centre
from sandbox.client import set_fault

from .conftest import OneDoor, start_onedoor

pytestmark = pytest.mark.asyncio(loop_scope="module")

# A short budget keeps "slow" quick to test; two attempts show retries happen.
# The breaker stays out of the way: after a few faults in a row it would (rightly)
# answer CENTRE_UNAVAILABLE for every later mode (tests/connectors/test_breaker.py).
POLICY = CallPolicy(timeouts=Timeouts(connect=0.5, read=0.8, total=1.2),
                    retries=Retries(max_attempts=2, backoff_base=0.05, backoff_max=0.1),
                    breaker=BreakerSettings(failure_threshold=1000))

QUERY = """query($id: String!) { citizen(idNumber: $id) { name
  matters(first: 50) { nodes { centre reference } } } }"""

EXPECTED = {
    "down": "CENTRE_UNAVAILABLE",
    "error": "CENTRE_UNAVAILABLE",
    "slow": "CENTRE_TIMEOUT",
    "throttle": "CENTRE_THROTTLED",
    "malformed": "CENTRE_BAD_RESPONSE",
}
# GOVERNANCE also holds the resident's base data, so its failure nulls `citizen`.
MATTER_CENTRES = [Centre.MEDIATION, Centre.LEGAL_SERVICES, Centre.PETITIONS, Centre.LITIGATION]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def faulty(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[OneDoor]:
    async with start_onedoor(tmp_path_factory.mktemp("faults"), POLICY) as od:
        yield od


async def _with_fault(od: OneDoor, centre: Centre, mode: str) -> dict[str, object]:
    citizen = demo_samples(od.sandbox.world, 1)[0]
    url = od.sandbox.urls[centre]
    await set_fault(url, mode, rate=1.0, slowMs=3000)
    try:
        return await od.query(QUERY, id=citizen)
    finally:
        await set_fault(url, "ok", rate=1.0)


@pytest.mark.parametrize("mode", list(EXPECTED))
@pytest.mark.parametrize("centre", MATTER_CENTRES, ids=lambda c: c.value)
async def test_a_failing_centre_leaves_the_rest_of_the_answer(faulty: OneDoor, centre: Centre,
                                                              mode: str) -> None:
    body = await _with_fault(faulty, centre, mode)
    citizen = body["data"]["citizen"]  # type: ignore[index]
    assert citizen is not None and citizen["name"]
    centres = {n["centre"] for n in citizen["matters"]["nodes"]}
    assert centre.value not in centres
    assert centres == {c.value for c in Centre} - {centre.value}
    errors = body["errors"]
    assert isinstance(errors, list)
    assert {(e["extensions"]["code"], e["extensions"]["centre"]) for e in errors} == {
        (EXPECTED[mode], centre.value)}
    assert all(e["path"] == ["citizen", "matters"] for e in errors)
    text = str(body)
    for leak in ("Traceback", "internal-", "127.0.0.1", "<html", "sandbox"):
        assert leak not in text


@pytest.mark.parametrize("mode", list(EXPECTED))
async def test_governance_failure_is_reported_not_a_500(faulty: OneDoor, mode: str) -> None:
    """The resident register failing does not take the person's matters with it: the
    other four centres answer, base-data fields are null, the error names GOVERNANCE."""
    body = await _with_fault(faulty, Centre.GOVERNANCE, mode)
    citizen = body["data"]["citizen"]  # type: ignore[index]
    assert citizen is not None and citizen["name"] is None
    centres = {n["centre"] for n in citizen["matters"]["nodes"]}
    assert centres == {c.value for c in Centre} - {Centre.GOVERNANCE.value}
    codes = {(e["extensions"]["code"], e["extensions"]["centre"]) for e in body["errors"]}  # type: ignore[union-attr]
    assert codes == {(EXPECTED[mode], "GOVERNANCE")}


@pytest.mark.parametrize("centre", [Centre.MEDIATION, Centre.LEGAL_SERVICES, Centre.LITIGATION],
                         ids=lambda c: c.value)
async def test_a_partial_batch_is_reported_not_taken_as_missing(faulty: OneDoor, centre: Centre) -> None:
    """In `partial` mode a batch read silently drops half of what it found. The
    connector notices ids neither returned nor listed as missing: the answer is
    CENTRE_BAD_RESPONSE, never a quiet "does not exist"."""
    from schema.ids import encode_id

    world = faulty.sandbox.world
    # Two matters that exist (rows of the world) and that no earlier test read,
    # so no record cache can answer for the centre.
    rows = list(world.rows(centre))[-2:]
    ids = [encode_id(centre, world.native_id(r)) for r in rows]
    query = "query($a: ID!, $b: ID!) { a: matter(id: $a) { reference } b: matter(id: $b) { reference } }"
    url = faulty.sandbox.urls[centre]
    await set_fault(url, "partial", rate=1.0)
    try:
        body = await faulty.query(query, a=ids[0], b=ids[1])
    finally:
        await set_fault(url, "ok", rate=1.0)
    codes = {(e["extensions"]["code"], e["extensions"]["centre"]) for e in body["errors"]}  # type: ignore[union-attr]
    assert codes == {("CENTRE_BAD_RESPONSE", centre.value)}
    assert body["data"] == {"a": None, "b": None}


async def test_centres_health_and_readiness_show_a_failing_centre(faulty: OneDoor) -> None:
    url = faulty.sandbox.urls[Centre.PETITIONS]
    await set_fault(url, "error", rate=1.0)
    try:
        await faulty.query(QUERY, id=demo_samples(faulty.sandbox.world, 1)[0])
        body = await faulty.query("{ centres { centre status lastErrorCode breakerState } }",
                                  faulty.token("operator"))
        ready = await faulty.http.get("/readyz")
    finally:
        await set_fault(url, "ok", rate=1.0)
    health = {c["centre"]: c for c in body["data"]["centres"]}  # type: ignore[index]
    assert health["PETITIONS"]["status"] == "DEGRADED"
    assert health["PETITIONS"]["lastErrorCode"] == "CENTRE_UNAVAILABLE"
    assert health["MEDIATION"]["status"] == "UP" and health["MEDIATION"]["breakerState"] == "CLOSED"
    # A failing centre degrades answers; the gateway itself stays ready.
    assert ready.status_code == 200
    assert ready.json()["centres"]["PETITIONS"]["status"] == "DEGRADED"
