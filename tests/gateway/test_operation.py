"""Operation stage over HTTP: limits with stable codes, error hygiene, tokens."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.settings import LimitsSettings
from policy.principal import Principal
from tests.schema.fakes import FakeCentre
from tests.schema.test_query import READ_ALL, _centres

from .harness import client

CASEWORKER = Principal(sub="u", client_id="c", scopes=READ_ALL, regions=("6323",),
                       authenticated=True)


async def _post(query: str, limits: LimitsSettings | None = None, token: str | None = "good",
                **kw: object) -> tuple[int, dict[str, object], dict[str, str]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with client(_centres(), {"good": CASEWORKER}, limits=limits, **kw) as http:
        response = await http.post("/graphql", json={"query": query}, headers=headers)
    return response.status_code, response.json(), dict(response.headers)


def _codes(body: dict[str, object]) -> list[str]:
    errors = body.get("errors") or []
    assert isinstance(errors, list)
    return [e["extensions"]["code"] for e in errors]


@pytest.mark.parametrize(
    ("query", "limits", "code"),
    [
        ("{ region(code: \"632300\") { children { children { children { children { code } } } } } }",
         LimitsSettings(max_depth=3), "MAX_DEPTH_LIMIT"),
        ("{ a: region(code: \"632300\") { code } b: region(code: \"630000\") { code } }",
         LimitsSettings(max_aliases=1), "MAX_ALIASES_LIMIT"),
        ("{ a: region(code: \"632300\") { code } b: region(code: \"630000\") { code } }",
         LimitsSettings(max_root_fields=1), "MAX_ROOT_FIELDS_LIMIT"),
        ("{ matters(filter: {}, first: 100) { nodes { links { matter { reference } } } } }",
         LimitsSettings(max_cost=300), "COST_ESTIMATED_TOO_EXPENSIVE"),
        ("{ " + "region(code: \"632300\") { code } " * 20 + "}",
         LimitsSettings(max_tokens=50), "MAX_TOKENS_LIMIT"),
        ("{ region(code: ", None, "GRAPHQL_PARSE_FAILED"),
        ("{ nosuchfield }", None, "GRAPHQL_VALIDATION_FAILED"),
    ],
)
async def test_limits_refuse_with_stable_codes(query: str, limits: LimitsSettings | None,
                                               code: str) -> None:
    _, body, _ = await _post(query, limits)
    assert code in _codes(body)
    assert body.get("data") is None


async def test_a_bad_token_is_401_with_the_rfc6750_challenge() -> None:
    status, body, headers = await _post("{ region(code: \"632300\") { name } }", token="forged")
    assert status == 401
    assert headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert _codes(body) == ["UNAUTHENTICATED"]


async def test_no_token_sees_only_fields_that_need_no_scope() -> None:
    status, body, _ = await _post(
        "{ region(code: \"632300\") { name } matters(filter: {}) { totalCount } }", token=None)
    assert status == 200
    assert body["data"] is None  # matters is non-null, so its denial nulls the root
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "UNAUTHORIZED_FIELD_OR_TYPE"
    assert ["mediation:read"] in error["extensions"]["requiredScopes"]


async def test_anonymous_requests_can_be_refused_outright() -> None:
    from gateway.settings import AuthSettings

    status, body, _ = await _post("{ region(code: \"632300\") { name } }", token=None,
                                  auth=AuthSettings(reject_anonymous=True))
    assert status == 401 and _codes(body) == ["UNAUTHENTICATED"]


async def test_unexpected_errors_are_masked_with_a_correlation_id() -> None:
    centres = _centres()

    async def broken(_: object) -> object:
        raise RuntimeError("secret backend detail http://10.0.0.1/internal")

    fake: FakeCentre = centres[next(iter(centres))]
    fake.find_by_citizens = broken  # type: ignore[method-assign,assignment]
    from tests.schema.test_query import ALICE

    async with client(centres, {"good": CASEWORKER}) as http:
        response = await http.post(
            "/graphql", headers={"Authorization": "Bearer good", "X-Request-Id": "req-12345678",
                                 "Accept": "application/graphql-response+json"},
            json={"query": "query($id: String!) { citizen(idNumber: $id) { matters { totalCount } } }",
                  "variables": {"id": ALICE}})
    body = response.json()
    assert "secret" not in response.text and "10.0.0.1" not in response.text
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "correlationId": "req-12345678"}


async def test_oversized_bodies_are_refused_before_parsing() -> None:
    async with client(_centres(), {"good": CASEWORKER}) as http:
        response = await http.post("/graphql", content=b"{" + b" " * 200_000 + b"}",
                                   headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"


async def test_introspection_is_off_in_production_settings() -> None:
    _, body, _ = await _post("{ __schema { types { name } } }")
    assert body.get("data") is None and body["errors"]
    _, body, _ = await _post("{ __schema { queryType { name } } }", introspection=True)
    assert body["data"] == {"__schema": {"queryType": {"name": "Query"}}}


async def test_batched_requests_are_capped_and_each_operation_stands_alone() -> None:
    query = {"query": '{ region(code: "632300") { name } }'}
    async with client(_centres(), {"good": CASEWORKER}, limits=LimitsSettings(max_batch=3)) as http:
        ok = await http.post("/graphql", json=[query] * 3, headers={"Authorization": "Bearer good"})
        too_many = await http.post("/graphql", json=[query] * 4,
                                   headers={"Authorization": "Bearer good"})
    assert ok.status_code == 200
    assert [r["data"]["region"]["name"] for r in ok.json()] == ["黄南藏族自治州"] * 3
    assert too_many.status_code == 400


async def test_documents_are_parsed_and_validated_once_per_query_text(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from graphql import parse as real_parse

    from gateway.operation import limits as module
    from schema import build_schema

    validated: list[object] = []
    real_validate = module.validate_document

    def counting_validate(*args: Any) -> Any:
        validated.append(args[1])
        return real_validate(*args)

    parsed: list[str] = []

    def counting_parse(source: Any, **kw: Any) -> Any:
        parsed.append(str(source))
        return real_parse(source, **kw)

    monkeypatch.setattr(module, "validate_document", counting_validate)
    monkeypatch.setattr("strawberry.schema.schema.parse", counting_parse)
    cache = module.DocumentCache()
    schema = build_schema([lambda: module.OperationLimits(LimitsSettings(max_cost=200), cache)])
    # `matters` is skipped when run, but its `first` still counts in the cost estimate.
    query = ("query R($n: Int, $b: Boolean!) { region(code: \"632300\") { name } "
             "matters(filter: {}, first: $n) @include(if: $b) { totalCount } }")
    for _ in range(3):
        result = await schema.execute(query, variable_values={"n": 5, "b": False})
        assert result.errors is None and result.data
        assert result.data["region"]["name"] == "黄南藏族自治州"
    assert len(parsed) == 1 and len(validated) == 1
    assert (cache.misses, cache.hits) == (1, 2)
    # The limits depend on the variables: the cached document is still checked each time.
    refused = await schema.execute(query, variable_values={"n": 500, "b": False})
    assert [e.extensions["code"] for e in refused.errors or [] if e.extensions] == [
        "COST_ESTIMATED_TOO_EXPENSIVE"]
    # A cached invalid document keeps failing with its validation error.
    for _ in range(2):
        bad = await schema.execute("{ nosuchfield }")
        assert bad.errors and "nosuchfield" in bad.errors[0].message
    assert len(validated) == 2


def _raise_recursion(*_: Any, **__: Any) -> Any:
    raise RecursionError("maximum recursion depth exceeded")


@pytest.mark.parametrize("target", [
    "gateway.operation.limits.validate_document",  # graphql-core's validation
    "gateway.operation.limits.measure_operation",  # the limits walk
    "strawberry.schema.schema.parse",  # the parser
])
async def test_an_exception_in_any_stage_is_masked_with_a_correlation_id(
        target: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    # An exception escaping a hook skips every extension's post-processing:
    # strawberry used to answer it with the raw message and no code.
    monkeypatch.setattr(target, _raise_recursion)
    caplog.set_level("ERROR", logger="onedoor.errors")
    async with client(_centres(), {"good": CASEWORKER}) as http:
        response = await http.post(
            "/graphql", headers={"Authorization": "Bearer good", "X-Request-Id": "req-12345678",
                                 "Accept": "application/graphql-response+json"},
            json={"query": '{ region(code: "632300") { name } }'})
    # The document never ran, and not by the client's fault: a 500 with the coded body
    # (application/graphql-response+json), never a bare server error page.
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/graphql-response+json")
    assert "recursion" not in response.text
    (error,) = response.json()["errors"]
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "correlationId": "req-12345678"}
    assert "req-12345678" in error["message"]
    # Logged once, by type and stack, under the same id.
    (incident,) = [r.getMessage() for r in caplog.records if r.name == "onedoor.errors"]
    assert incident.startswith("unexpected RecursionError request_id=req-12345678")


@pytest.mark.parametrize("name", [{"a": 1}, ["Q"], 5, True])
async def test_a_non_string_operation_name_is_a_bad_request(name: object) -> None:
    async with client(_centres(), {"good": CASEWORKER}) as http:
        single = await http.post("/graphql", headers={"Authorization": "Bearer good"},
                                 json={"query": "{ __typename }", "operationName": name})
        batch = await http.post("/graphql", headers={"Authorization": "Bearer good"},
                                json=[{"query": "{ __typename }", "operationName": name}])
    for response in (single, batch):
        assert response.status_code == 400, response.text
        assert "expected string" not in response.text
        assert _codes(response.json()) == ["BAD_REQUEST"]


async def test_operation_telemetry_takes_an_operation_name_of_any_type() -> None:
    from opentelemetry import trace
    from strawberry.schema.exceptions import CannotGetOperationTypeError

    from gateway.operation.errors import ErrorHygiene
    from gateway.telemetry.metrics import Metrics
    from gateway.telemetry.stages import OperationTelemetry
    from schema import build_schema

    metrics = Metrics()
    assert [metrics.operation_label(n) for n in ({"a": 1}, ["Q"], 5, "", None)] == [
        "invalid", "invalid", "invalid", "anonymous", "anonymous"]
    schema = build_schema([lambda: OperationTelemetry(metrics, trace.get_tracer("test")),
                           ErrorHygiene])
    # Below the HTTP stage (which refuses it with a 400) the operation still ends
    # as strawberry's own refusal, not as the label code's TypeError.
    with pytest.raises(CannotGetOperationTypeError):
        await schema.execute("{ __typename }", operation_name={"a": 1})  # type: ignore[arg-type]
    text = metrics.exposition().decode()
    assert 'onedoor_graphql_operations_total{operation="invalid",outcome="error"} 1.0' in text
    assert 'onedoor_graphql_errors_total{code="BAD_REQUEST"} 1.0' in text
