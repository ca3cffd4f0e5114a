"""The record cache sits below authorization: it holds raw records, shared by
every caller, and each caller still gets only what their scopes and regions
allow — masking and jurisdiction are applied after it, to cached records too."""

from __future__ import annotations

import json

from connectors.cache import CachingConnector, RecordCache
from onedoor.model import Centre
from policy.principal import Principal
from schema.ids import encode_id
from tests.schema.test_query import READ_ALL, _centres

from .harness import client

QUERY = "query($id: ID!) { matter(id: $id) { reference parties { name phone } } }"


def _who(scopes: frozenset[str], regions: tuple[str, ...]) -> Principal:
    return Principal(sub="u", client_id="c", scopes=scopes, regions=regions, authenticated=True)


async def test_one_centre_call_serves_callers_with_different_rights() -> None:
    fakes = _centres()
    cache = RecordCache(ttl_seconds=60, max_entries=100)
    cached = {c: CachingConnector(f, cache) for c, f in fakes.items()}
    principals = {"pii": _who(READ_ALL | {"pii:read"}, ("6323",)),
                  "plain": _who(READ_ALL, ("6323",)),
                  "elsewhere": _who(READ_ALL | {"pii:read"}, ("6502",))}
    variables = {"id": encode_id(Centre.MEDIATION, "M1")}
    bodies = {}
    async with client(cached, principals) as http:
        for token in principals:
            response = await http.post("/graphql", json={"query": QUERY, "variables": variables},
                                       headers={"Authorization": f"Bearer {token}"})
            bodies[token] = json.dumps(response.json(), ensure_ascii=False)
    assert fakes[Centre.MEDIATION].calls["get_many"] == 1
    assert cache.stats.hits == 2
    assert "13812345678" in bodies["pii"]
    assert "138****5678" in bodies["plain"] and "13812345678" not in bodies["plain"]
    assert "13812345678" not in bodies["elsewhere"] and "M1" not in bodies["elsewhere"]
