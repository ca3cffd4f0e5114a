"""GraphQL over HTTP, as the spec and the graphql-http audit read it, and malformed
requests answered with a coded JSON error rather than a crash."""

from __future__ import annotations

import pytest

from gateway.graphql_app import negotiate
from policy.principal import Principal
from tests.gateway.harness import client
from tests.schema.test_query import READ_ALL, _centres

CASEWORKER = Principal(sub="u", client_id="c", scopes=READ_ALL, regions=("6323",), authenticated=True)
AUTH = {"Authorization": "Bearer cw"}


@pytest.mark.parametrize(("accept", "chosen"), [
    (None, "application/json"),
    ("*/*", "application/json"),
    ("application/*", "application/json"),
    ("*/*;q=0.5, application/graphql-response+json", "application/graphql-response+json"),
    ("application/json", "application/json"),
    ("application/graphql-response+json, application/json;q=0.9", "application/graphql-response+json"),
    ("application/json, application/graphql-response+json;q=0.5", "application/json"),
    ("text/html", None),
    ("application/json;q=0", None),
])
def test_negotiation(accept: str | None, chosen: str | None) -> None:
    assert negotiate(accept) == chosen


async def test_a_validation_error_is_400_without_data_in_graphql_response_json() -> None:
    async with client(_centres(), {"cw": CASEWORKER}) as http:
        modern = await http.post("/graphql", json={"query": "{ nosuch }"},
                                 headers={**AUTH, "Accept": "application/graphql-response+json"})
        legacy = await http.post("/graphql", json={"query": "{ nosuch }"},
                                 headers={**AUTH, "Accept": "application/json"})
    assert modern.status_code == 400
    assert modern.headers["content-type"].startswith("application/graphql-response+json")
    assert "data" not in modern.json()
    assert legacy.status_code == 200 and legacy.json()["data"] is None
    assert legacy.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize(("body", "status", "code"), [
    ("[" * 5000 + "]" * 5000, 400, "BAD_REQUEST"),  # nested deeper than the parser's stack
    ('[{"query": {"a": 1}}]', 400, "BAD_REQUEST"),  # a batch entry of the wrong type
    ('[{"query": "{ __typename }", "variables": [1]}]', 400, "BAD_REQUEST"),
    ('{"query": "{ __typename }", "operationName": {"a": 1}}', 400, "BAD_REQUEST"),
    ("not json", 400, "BAD_REQUEST"),
])
async def test_malformed_requests_get_a_coded_json_error(body: str, status: int, code: str) -> None:
    async with client(_centres(), {"cw": CASEWORKER}) as http:
        response = await http.post("/graphql", content=body.encode(),
                                   headers={**AUTH, "content-type": "application/json"})
    assert response.status_code == status
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == [code]


async def test_a_mutation_over_get_is_405() -> None:
    async with client(_centres(), {"cw": CASEWORKER}) as http:
        response = await http.get("/graphql", params={"query": 'mutation { __typename }'}, headers=AUTH)
    assert response.status_code == 405 and response.headers["allow"] == "POST"


async def test_nothing_acceptable_is_406() -> None:
    async with client(_centres(), {"cw": CASEWORKER}) as http:
        response = await http.post("/graphql", json={"query": "{ __typename }"},
                                   headers={**AUTH, "Accept": "text/html"})
    assert response.status_code == 406
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_ACCEPTABLE"
