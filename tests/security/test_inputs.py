"""Security point 9 (inputs): every input string is bounded at the operation stage —
in variables or written in the document, for any field — before a resolver or a
centre sees it. (Each field's own, lower limit names the field: tests/e2e/test_filing.py.)"""

from __future__ import annotations

from typing import Any

import pytest

from policy.principal import Principal
from tests.gateway.harness import client
from tests.schema.test_query import ALICE, READ_ALL, _centres

WRITER = Principal(sub="u", client_id="c", scopes=READ_ALL | {"matters:write"}, regions=("6323",),
                   authenticated=True)
SUBMIT = """mutation F($input: SubmitMatterInput!) {
  submitMatter(input: $input, idempotencyKey: "k-long") { matter { id } } }"""


def _input(address: str) -> dict[str, Any]:
    return {"applicants": [{"name": "张三", "idNumber": ALICE, "address": address}],
            "category": "邻里", "subject": "邻里", "regionCode": "632301001001",
            "description": "邻居占用通道"}


async def test_a_20000_character_address_is_refused_before_any_centre_call() -> None:
    centres = _centres()
    async with client(centres, {"w": WRITER}) as http:
        response = await http.post("/graphql", json={"query": SUBMIT, "variables": {"input": _input("路" * 20_000)}},
                                   headers={"Authorization": "Bearer w",
                                            "Accept": "application/graphql-response+json"})
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "maxLength": 10_000, "actual": 20_000}
    assert sum(sum(c.calls.values()) for c in centres.values()) == 0


@pytest.mark.parametrize("where", ["literal", "variable"])
async def test_long_strings_are_refused_wherever_they_are_written(where: str) -> None:
    long = "6" * 10_001
    if where == "literal":
        body: dict[str, Any] = {"query": '{ citizen(idNumber: "' + long + '") { name } }'}
    else:
        body = {"query": "query($id: String!) { citizen(idNumber: $id) { name } }", "variables": {"id": long}}
    async with client(_centres(), {"w": WRITER}) as http:
        response = await http.post("/graphql", json=body, headers={"Authorization": "Bearer w",
                                                                   "Accept": "application/json"})
    assert response.status_code == 200  # application/json: 200, the error says why
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["BAD_USER_INPUT"]

