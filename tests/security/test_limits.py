"""Security point 1 (+2): the document limits cost linear time and answer with a code.

- Fragment doubling (``F1 { ...F0 ...F0 }`` … ``F20``, 823 bytes) expands to
  a million root fields; it used to be walked field by field, 12–16 s on the
  event loop. It is measured in a few dozen steps now (counted, not timed).
- A self-recursive fragment used to crash the walker (``maximum recursion
  depth exceeded``, no code): validation refuses it before anything walks.
- Nothing about a document's shape reaches a client as a raw message.
- Demo mode answers the standard introspection queries of graphql-core and
  graphql-js, and introspection stays bounded.
"""

from __future__ import annotations

from typing import Any

import graphql
import pytest
from graphql import parse

from gateway.operation import limits as module
from gateway.operation.limits import (
    INTROSPECTION_MAX_DEPTH,
    SATURATED,
    Measure,
    limit_errors,
    measure_operation,
)
from gateway.settings import LimitsSettings
from policy.principal import Principal
from tests.gateway.harness import client
from tests.schema.test_query import READ_ALL, _centres

CASEWORKER = Principal(sub="u", client_id="c", scopes=READ_ALL, regions=("6323",),
                       authenticated=True)


def doubling(levels: int) -> str:
    """``query { ...F<levels> }`` over fragments that each spread the previous twice."""
    return " ".join([f"query {{ ...F{levels} }} fragment F0 on Query {{ __typename }}"]
                    + [f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}"
                       for i in range(1, levels + 1)])


SELF_RECURSIVE = ('query { region(code: "632300") { ...Tree } } '
                  "fragment Tree on Region { code children { ...Tree } }")


async def _post(query: str, variables: dict[str, Any] | None = None, **kw: Any
                ) -> tuple[int, dict[str, Any]]:
    async with client(_centres(), {"good": CASEWORKER}, **kw) as http:
        response = await http.post(
            "/graphql", json={"query": query, "variables": variables or {}},
            headers={"Authorization": "Bearer good", "X-Request-Id": "req-limits-1"})
    body: dict[str, Any] = response.json()
    assert response.status_code < 500, response.text
    return response.status_code, body


def _codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors") or []]


@pytest.fixture
def measured(monkeypatch: pytest.MonkeyPatch) -> list[Measure | None]:
    """Every measure the limits stage takes, through the app."""
    seen: list[Measure | None] = []

    def spy(*args: Any, **kw: Any) -> Measure | None:
        result = measure_operation(*args, **kw)
        seen.append(result)
        return result

    monkeypatch.setattr(module, "measure_operation", spy)
    return seen


def test_doubling_fragments_are_measured_once_each() -> None:
    document = doubling(20)
    assert len(document) == 823
    result = measure_operation(parse(document), {})
    assert result is not None
    assert result.root_fields == 2**20 and result.cost == 2**20
    # One step per selection: the operation's, two in each of F1…F20, F0's.
    assert result.steps == 42


def test_measures_saturate_instead_of_growing_bignums() -> None:
    result = measure_operation(parse(doubling(64)), {})
    assert result is not None
    assert result.root_fields == result.cost == SATURATED
    assert result.steps == 1 + 2 * 64 + 1
    huge = measure_operation(parse(
        "query($n: Int) { matters(filter: {}, first: $n) { nodes { links { matter { reference } } } } }"),
        {"n": 10**40})
    assert huge is not None and huge.cost == SATURATED


async def test_the_doubling_document_is_refused_after_a_few_dozen_steps(
        measured: list[Measure | None]) -> None:
    _, body = await _post(doubling(20))
    assert "MAX_ROOT_FIELDS_LIMIT" in _codes(body)
    assert body.get("data") is None
    # The event loop (and /healthz) waits for this many steps, not a million fields.
    assert [m.steps for m in measured if m is not None] == [42]
    assert all(m is not None and m.steps < 300 for m in measured)


async def test_a_self_recursive_fragment_is_a_validation_error(
        measured: list[Measure | None]) -> None:
    _, body = await _post(SELF_RECURSIVE)
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "within itself" in error["message"]
    assert measured == []  # an invalid document is never walked


async def test_an_invalid_document_is_not_walked(measured: list[Measure | None]) -> None:
    _, body = await _post(doubling(20).replace("query { ...F20 }", "query { nosuchfield ...F20 }"))
    assert _codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    assert measured == []


async def test_a_long_fragment_chain_answers_with_a_code() -> None:
    # 1000 fragments, each one level deeper: the old recursive walker ran out of stack.
    chain = ('query { region(code: "632300") { ...F0 } } '
             + " ".join(f"fragment F{i} on Region {{ children {{ ...F{i + 1} }} }}"
                        for i in range(1000))
             + " fragment F1000 on Region { code }")
    _, body = await _post(chain, limits=LimitsSettings(max_tokens=100_000,
                                                       max_body_bytes=1 << 20))
    assert body.get("data") is None
    assert set(_codes(body)) <= {"GRAPHQL_VALIDATION_FAILED", "MAX_DEPTH_LIMIT",
                                 "COST_ESTIMATED_TOO_EXPENSIVE"}
    assert _codes(body) and "recursion" not in str(body)


@pytest.mark.parametrize("limits", [None, LimitsSettings(max_tokens=100_000,
                                                         max_body_bytes=1 << 20)])
@pytest.mark.parametrize("query", [
    "{" + "a{" * 5000 + "a" + "}" * 5001,
    '{ region(code: ' + "[" * 5000 + '"632300"' + "]" * 5000 + ") { code } }",
])
async def test_deeply_nested_documents_answer_with_a_code(query: str,
                                                          limits: LimitsSettings | None) -> None:
    # max_tokens stops most of these; past it, graphql-core's parser refuses what
    # would overflow the stack ("nested too deeply"), so nothing later sees it.
    _, body = await _post(query, limits=limits)
    (code,) = _codes(body)
    assert code in {"MAX_TOKENS_LIMIT", "GRAPHQL_PARSE_FAILED"}
    assert body.get("data") is None


async def test_a_declared_default_counts_towards_the_cost() -> None:
    # `first: $n` without a value used to count as 20 whatever the default said.
    query = ("query($n: Int = 100) { matters(filter: {}, first: $n) "
             "{ nodes { links { matter { reference } } } } }")
    _, body = await _post(query, limits=LimitsSettings(max_cost=300))
    assert _codes(body) == ["COST_ESTIMATED_TOO_EXPENSIVE"]
    assert body["errors"][0]["extensions"]["actual"] == 1 + 100 * 12
    _, body = await _post(query, {"n": 5}, limits=LimitsSettings(max_cost=300))
    assert "COST_ESTIMATED_TOO_EXPENSIVE" not in _codes(body)


def test_only_the_operation_that_runs_is_measured() -> None:
    document = parse('query Small { __typename } query Big { ...F20 } '
                     + doubling(20).split(" ", 4)[4])
    settings = LimitsSettings()
    assert limit_errors(document, settings, {}, "Small") == []
    assert limit_errors(document, settings, {}) == []  # strawberry runs the first
    assert [e.extensions["code"] for e in limit_errors(document, settings, {}, "Big")
            if e.extensions] == ["MAX_ROOT_FIELDS_LIMIT", "COST_ESTIMATED_TOO_EXPENSIVE"]


# -- introspection (point 2) ---------------------------------------------------------------

def graphql_js_introspection_query(type_depth: int = 9) -> str:
    """The shape of graphql-js's current ``getIntrospectionQuery()`` with its
    defaults (descriptions, ``typeDepth: 9``, ``kind`` on the root types)."""
    of_type = "kind name"
    for _ in range(type_depth):
        of_type = f"name kind ofType {{ {of_type} }}"
    return f"""
    query IntrospectionQuery {{
      __schema {{
        queryType {{ name kind }} mutationType {{ name kind }} subscriptionType {{ name kind }}
        types {{ ...FullType }}
        directives {{ name description locations args {{ ...InputValue }} }}
      }}
    }}
    fragment FullType on __Type {{
      kind name description
      fields(includeDeprecated: true) {{
        name description args {{ ...InputValue }} type {{ ...TypeRef }}
        isDeprecated deprecationReason
      }}
      inputFields {{ ...InputValue }}
      interfaces {{ ...TypeRef }}
      enumValues(includeDeprecated: true) {{ name description isDeprecated deprecationReason }}
      possibleTypes {{ ...TypeRef }}
    }}
    fragment InputValue on __InputValue {{ name description type {{ ...TypeRef }} defaultValue }}
    fragment TypeRef on __Type {{ kind name ofType {{ {of_type} }} }}
    """


DEMO: dict[str, Any] = {"mode": "demo", "introspection": True, "field_suggestions": True}


@pytest.mark.parametrize("query", [
    graphql.get_introspection_query(descriptions=True),
    graphql.get_introspection_query(descriptions=True, input_value_deprecation=True,
                                    schema_description=True, directive_is_repeatable=True,
                                    specified_by_url=True),
    graphql_js_introspection_query(),
], ids=["graphql-core", "graphql-core-all-options", "graphql-js"])
async def test_standard_introspection_queries_pass_in_demo_mode(query: str) -> None:
    measured = measure_operation(parse(query), {})
    assert measured is not None
    assert measured.depth < LimitsSettings().max_depth < measured.introspection_depth
    assert measured.introspection_depth <= INTROSPECTION_MAX_DEPTH
    _, body = await _post(query, **DEMO)
    assert "errors" not in body, body.get("errors")
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_an_ofType_chain_past_the_introspection_depth_is_refused() -> None:
    chain = "name " + "ofType { " * 25 + "name" + " }" * 25
    _, body = await _post(f'{{ __type(name: "Query") {{ {chain} }} }}', **DEMO)
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "MAX_DEPTH_LIMIT", "actual": 26,
                                   "limit": INTROSPECTION_MAX_DEPTH}


async def test_nested_introspection_lists_are_refused_by_validation() -> None:
    # graphql-core's MaxIntrospectionDepthRule: at most three nested `fields`-like lists.
    query = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"
    _, body = await _post(query, **DEMO)
    assert _codes(body) == ["GRAPHQL_VALIDATION_FAILED"]


async def test_introspection_aliases_still_count() -> None:
    query = "{ __schema { " + " ".join(f"t{i}: types {{ name }}" for i in range(31)) + " } }"
    _, body = await _post(query, **DEMO)
    assert _codes(body) == ["MAX_ALIASES_LIMIT"]
