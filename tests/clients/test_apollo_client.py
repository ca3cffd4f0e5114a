"""Apollo Client 4 with its persisted-query link (APQ) against the demo: the
hash alone first; for an unknown hash ``PERSISTED_QUERY_NOT_FOUND`` and one
retry with the document; from then on the hash alone — by POST, and by GET
(``useGETForHashedQueries``, cacheable URLs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .live import Demo
from .node import requires_node, run_script

pytestmark = requires_node


@pytest.fixture(scope="module")
def runs(node_modules: Path, demo: Demo) -> dict[str, Any]:
    out = run_script("apq.mjs", f"{demo.url}/graphql",
                     env={"TOKEN": demo.tokens["caseworker"], "CITIZEN": demo.samples[0]})
    result: dict[str, Any] = out["runs"]
    return result


def _wire(run: dict[str, Any]) -> list[tuple[str, bool, int]]:
    return [(w["method"], w["hashOnly"], w["status"]) for w in run["wire"]]


def test_a_new_document_is_registered_by_one_retry(runs: dict[str, Any]) -> None:
    first = runs["first"]
    assert first["error"] is None and len(first["data"]["centres"]) == 5, first
    assert _wire(first) == [("POST", True, 200), ("POST", False, 200)], first["wire"]
    assert "PERSISTED_QUERY_NOT_FOUND" in first["wire"][0]["body"]


def test_a_registered_document_travels_as_its_hash(runs: dict[str, Any]) -> None:
    again = runs["again"]  # a brand-new client: nothing shared but the server's store
    assert again["error"] is None and again["data"]["centres"], again
    assert _wire(again) == [("POST", True, 200)], again["wire"]


def test_variables_and_a_bearer_token_ride_along(runs: dict[str, Any]) -> None:
    again = runs["variablesAgain"]
    assert again["error"] is None and again["data"]["citizen"]["matters"]["totalCount"] > 0, again
    assert _wire(again) == [("POST", True, 200)], again["wire"]


def test_hashed_queries_by_get(runs: dict[str, Any]) -> None:
    assert runs["getFirst"]["error"] is None, runs["getFirst"]
    assert _wire(runs["getFirst"])[0][:2] == ("GET", True), runs["getFirst"]["wire"]
    again = runs["getAgain"]
    assert again["error"] is None and again["data"]["centres"], again
    assert _wire(again) == [("GET", True, 200)], again["wire"]
