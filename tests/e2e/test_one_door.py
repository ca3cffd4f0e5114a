"""The foundation's promise, over real HTTP: one citizen, five centres, links
resolved, and batching proven by the centres' own call counters."""

from __future__ import annotations

from collections import Counter

import pytest

from gateway.demo import demo_samples
from onedoor.model import Centre
from schema.ids import decode_id

from .conftest import OneDoor

pytestmark = pytest.mark.asyncio(loop_scope="module")

NESTED = """
query Nested($id: String!) { citizen(idNumber: $id) { name
  matters(first: 50) { totalCount nodes { id centre reference
    links { relation matter { id centre reference
      links { relation matter { id centre reference } } } } } } } }
"""


def _linked_citizen_in_all_centres(od: OneDoor) -> str:
    return demo_samples(od.sandbox.world, 1)[0]


async def test_a_citizen_has_matters_from_all_five_centres_with_links(onedoor: OneDoor) -> None:
    citizen = _linked_citizen_in_all_centres(onedoor)
    body = await onedoor.query(NESTED, id=citizen)
    assert "errors" not in body, body.get("errors")
    matters = body["data"]["citizen"]["matters"]
    assert {n["centre"] for n in matters["nodes"]} == {c.value for c in Centre}
    # The world lists the matters where they are the primary party; the gateway
    # must find all of those (and may add ones where they are a counter-party).
    expected = set(onedoor.sandbox.world.matters_of(citizen))
    got = {decode_id(n["id"]) for n in matters["nodes"]}
    assert got >= expected
    assert matters["totalCount"] == len(got)
    links = [link for n in matters["nodes"] for link in n["links"]]
    assert links, "a linked citizen shows cross-centre links"
    assert all(link["matter"] is not None for link in links)


async def test_nested_query_is_batched_one_call_per_centre_per_level(onedoor: OneDoor) -> None:
    citizen = _linked_citizen_in_all_centres(onedoor)
    await onedoor.reset_stats()
    body = await onedoor.query(NESTED, id=citizen)
    assert "errors" not in body
    calls = await onedoor.stats()

    own = {decode_id(n["id"]) for n in body["data"]["citizen"]["matters"]["nodes"]}
    level2 = {decode_id(link["matter"]["id"]) for n in body["data"]["citizen"]["matters"]["nodes"]
              for link in n["links"]}
    level3 = {decode_id(inner["matter"]["id"])
              for n in body["data"]["citizen"]["matters"]["nodes"] for link in n["links"]
              for inner in link["matter"]["links"]}
    # Matters already seen were primed into the by-id loaders: only new ones cost a call.
    fetched2 = level2 - own
    fetched3 = level3 - own - level2
    need = Counter(c for c, _ in fetched2)
    need3 = Counter(c for c, _ in fetched3)

    def batch_calls(centre: Centre) -> int:
        return int(bool(need[centre])) + int(bool(need3[centre]))

    # Level 1: one search per centre (governance: one more for the resident).
    assert calls["MEDIATION"] == {"GET /api/cases": 1 + batch_calls(Centre.MEDIATION)}
    assert calls["LEGAL_SERVICES"] == {"GET /v1/applications": 1 + batch_calls(Centre.LEGAL_SERVICES)}
    assert calls["LITIGATION"] == {"GET /cases": 1, **(
        {"POST /cases:batchGet": batch_calls(Centre.LITIGATION)} if batch_calls(Centre.LITIGATION) else {})}
    assert calls["GOVERNANCE"] == {"POST /graphql": 2 + batch_calls(Centre.GOVERNANCE)}
    # PETITIONS has no batch read: exactly one request per matter it had to fetch.
    petitions_fetched = need[Centre.PETITIONS] + need3[Centre.PETITIONS]
    assert calls["PETITIONS"] == {"GET /xf/query": 1, **(
        {"GET /xf/item": petitions_fetched} if petitions_fetched else {})}
