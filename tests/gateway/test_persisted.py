"""Persisted queries: Apollo APQ (register, look up, hash mismatch, not found),
a safelist manifest (by id, by body, refusals) and GET with a persisted hash —
the store alone, then through the gateway over ASGI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.persisted import PersistedQueries, PersistedQueryError, load_manifest, sha256_hex
from gateway.settings import PersistedQueriesSettings
from tests.schema.test_query import _centres

from .harness import client
from .test_operation import CASEWORKER

QUERY = 'query Region { region(code: "632300") { name } }'
OTHER = '{ region(code: "630000") { code } }'
AUTH = {"Authorization": "Bearer good"}


def _ext(document: str | None = None, digest: str | None = None) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest or sha256_hex(document or "")}}


def _manifest(tmp_path: Path, *bodies: str) -> Path:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({
        "format": "apollo-persisted-query-manifest", "version": 1,
        "operations": [{"id": f"op-{i}", "name": f"Op{i}", "type": "query", "body": b}
                       for i, b in enumerate(bodies)],
    }))
    return path


def _code(call: Any) -> str:
    with pytest.raises(PersistedQueryError) as caught:
        call()
    return caught.value.code


# ---- the store ---------------------------------------------------------------------------


def test_apq_registers_then_serves_by_hash() -> None:
    store = PersistedQueries()
    digest = sha256_hex(QUERY)
    assert _code(lambda: store.resolve(None, _ext(digest=digest))) == "PERSISTED_QUERY_NOT_FOUND"
    assert store.resolve(QUERY, _ext(QUERY)) == QUERY
    assert store.resolve(None, _ext(digest=digest.upper())) == QUERY
    assert store.resolve(OTHER, None) == OTHER  # plain requests are untouched


@pytest.mark.parametrize("extensions", [
    {"persistedQuery": {"version": 2, "sha256Hash": "0" * 64}},
    {"persistedQuery": "nope"},
])
def test_unsupported_shapes(extensions: dict[str, Any]) -> None:
    assert _code(lambda: PersistedQueries().resolve(None, extensions)) == "PERSISTED_QUERY_NOT_SUPPORTED"


def test_mismatch_and_disabled() -> None:
    store = PersistedQueries()
    assert _code(lambda: store.resolve(QUERY, _ext(OTHER))) == "PERSISTED_QUERY_HASH_MISMATCH"
    assert _code(lambda: store.resolve(QUERY, _ext(digest="xyz"))) == "PERSISTED_QUERY_HASH_MISMATCH"
    assert _code(lambda: store.resolve(None, _ext(digest=sha256_hex(OTHER)))) == "PERSISTED_QUERY_NOT_FOUND"
    off = PersistedQueries(apq=False)
    assert _code(lambda: off.resolve(None, _ext(QUERY))) == "PERSISTED_QUERY_NOT_SUPPORTED"


def test_the_store_is_bounded_in_bytes() -> None:
    store = PersistedQueries(max_bytes=2 * len(QUERY))
    bodies = [f"{{ region(code: \"63{i:04d}\") {{ name }} }}" for i in range(10)]
    for body in bodies:
        store.resolve(body, _ext(body))
    assert _code(lambda: store.resolve(None, _ext(bodies[0]))) == "PERSISTED_QUERY_NOT_FOUND"
    assert store.resolve(None, _ext(bodies[-1])) == bodies[-1]


def test_safelist_by_id_by_body_and_normalised(tmp_path: Path) -> None:
    store = PersistedQueries(apq=False, manifest=load_manifest(_manifest(tmp_path, QUERY)))
    assert store.resolve(None, _ext(digest="op-0")) == QUERY
    assert store.resolve(QUERY, None) == QUERY
    reformatted = 'query Region {\n  # comment\n  region(code: "632300") {\n    name\n  }\n}'
    assert store.resolve(reformatted, None) == reformatted
    assert _code(lambda: store.resolve(OTHER, None)) == "QUERY_NOT_IN_SAFELIST"
    assert _code(lambda: store.resolve(None, _ext(digest="op-9"))) == "QUERY_NOT_IN_SAFELIST"
    assert _code(lambda: store.resolve(OTHER, _ext(OTHER))) == "QUERY_NOT_IN_SAFELIST"


def test_safelist_with_apq_only_registers_listed_bodies(tmp_path: Path) -> None:
    store = PersistedQueries(apq=True, manifest=load_manifest(_manifest(tmp_path, QUERY)))
    assert store.resolve(QUERY, _ext(QUERY)) == QUERY
    assert store.resolve(None, _ext(QUERY)) == QUERY
    assert _code(lambda: store.resolve(None, _ext(OTHER))) == "PERSISTED_QUERY_NOT_FOUND"
    assert _code(lambda: store.resolve(OTHER, _ext(OTHER))) == "QUERY_NOT_IN_SAFELIST"


@pytest.mark.parametrize("content", [
    "{not json", '{"format": "other", "version": 1, "operations": []}',
    '{"format": "apollo-persisted-query-manifest", "version": 1, "operations": [{"id": 1}]}',
    '{"format": "apollo-persisted-query-manifest", "version": 1, "operations": [{"id": "a", "body": "{"}]}',
])
def test_a_bad_manifest_fails_at_start_up(tmp_path: Path, content: str) -> None:
    path = tmp_path / "m.json"
    path.write_text(content)
    with pytest.raises(ValueError, match="safelist manifest"):
        PersistedQueries.from_settings(PersistedQueriesSettings(safelist_manifest=path))


def test_settings_reject_a_missing_manifest_and_unknown_keys(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        PersistedQueriesSettings(safelist_manifest=tmp_path / "absent.json")
    with pytest.raises(ValueError):
        PersistedQueriesSettings.model_validate({"apq": True, "typo": 1})


# ---- through the gateway -----------------------------------------------------------------


MODERN = {"Accept": "application/graphql-response+json"}


def _errors(response: httpx.Response, status: int = 200) -> list[str]:
    """Codes of a response; a refusal (the document never ran) is a request error:
    4xx and no ``data`` entry under application/graphql-response+json (``MODERN``).
    APQ's not-found stays 200 (clients retry on the code)."""
    assert response.status_code == status
    if status >= 400:
        assert "data" not in response.json()
    return [e["extensions"]["code"] for e in response.json().get("errors") or []]


async def test_apq_over_http_post_then_get() -> None:
    async with client(_centres(), {"good": CASEWORKER}) as http:
        hash_only = {"extensions": _ext(QUERY)}
        missing = await http.post("/graphql", json=hash_only, headers=AUTH)
        assert _errors(missing) == ["PERSISTED_QUERY_NOT_FOUND"]
        assert missing.json()["errors"][0]["message"] == "PersistedQueryNotFound"

        wrong = await http.post("/graphql", json={"query": QUERY, "extensions": _ext(OTHER)},
                                headers={**AUTH, **MODERN})
        assert _errors(wrong, 400) == ["PERSISTED_QUERY_HASH_MISMATCH"]

        registered = await http.post("/graphql", json={"query": QUERY, "extensions": _ext(QUERY)},
                                     headers=AUTH)
        assert registered.json()["data"]["region"]["name"] and "errors" not in registered.json()

        again = await http.post("/graphql", json=hash_only, headers=AUTH)
        assert again.json() == registered.json()

        params = {"extensions": json.dumps(_ext(QUERY)), "variables": "{}", "operationName": "Region"}
        got = await http.get("/graphql", params=params, headers={**AUTH, "Accept": "*/*"})
        assert got.status_code == 200 and got.json() == registered.json()

        unknown = await http.get("/graphql", params={"extensions": json.dumps(_ext(OTHER))}, headers=AUTH)
        assert _errors(unknown) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_safelist_over_http(tmp_path: Path) -> None:
    settings = PersistedQueriesSettings(apq=False, safelist_manifest=_manifest(tmp_path, QUERY))
    async with client(_centres(), {"good": CASEWORKER}, persisted_queries=settings) as http:
        by_id = await http.post("/graphql", json={"extensions": _ext(digest="op-0")}, headers=AUTH)
        assert "region" in by_id.json()["data"]
        by_body = await http.post("/graphql", json={"query": QUERY}, headers=AUTH)
        assert by_body.json() == by_id.json()
        refused = await http.post("/graphql", json={"query": OTHER}, headers={**AUTH, **MODERN})
        assert _errors(refused, 400) == ["QUERY_NOT_IN_SAFELIST"]
        legacy = await http.post("/graphql", json={"query": OTHER},
                                 headers={**AUTH, "Accept": "application/json"})
        assert _errors(legacy) == ["QUERY_NOT_IN_SAFELIST"] and legacy.json()["data"] is None
        batch = await http.post("/graphql", json=[{"query": QUERY}, {"query": OTHER}], headers=AUTH)
        assert [bool(r.get("errors")) for r in batch.json()] == [False, True]
        get = await http.get("/graphql", params={"extensions": json.dumps(_ext(digest="op-0"))}, headers=AUTH)
        assert get.json() == by_id.json()
