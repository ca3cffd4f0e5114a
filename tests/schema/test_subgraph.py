"""Subgraph mode: entity keys only there, the exported SDL in step with the
code, and references resolved through the ordinary field rules."""

from __future__ import annotations

from pathlib import Path

from schema import build_schema, sdl
from schema.ids import encode_id
from schema.subgraph import subgraph_sdl

from .test_query import ALICE, READ_ALL, _centres, _context

SUBGRAPH_FILE = Path(__file__).parents[2] / "schema" / "subgraph.graphql"
SUBGRAPH = build_schema(federation=True)


def test_exported_subgraph_sdl_matches_the_code() -> None:
    assert SUBGRAPH_FILE.read_text(encoding="utf-8") == subgraph_sdl(), (
        "schema/subgraph.graphql is stale: run `make schema`"
    )


def test_keys_exist_only_in_subgraph_mode() -> None:
    text = subgraph_sdl()
    assert 'type Citizen @key(fields: "idNumber"' in text
    for name in ("MediationCase", "LegalServiceRequest", "Petition", "CourtCase", "GridMatter"):
        assert f"type {name} implements Matter & Node" in text
    assert text.count('@key(fields: "id"') == 5
    assert '@link(url: "https://specs.apollo.dev/federation/v2.11"' in text
    assert "@key" not in sdl() and "_entities" not in sdl()  # the default contract is unchanged
    assert "@key" not in build_schema().as_str()  # attaching keys left no trace


async def test_service_sdl_is_the_exported_one() -> None:
    result = await SUBGRAPH.execute("{ _service { sdl } }")
    assert result.errors is None
    assert result.data is not None and result.data["_service"]["sdl"] + "\n" == subgraph_sdl()


async def test_entities_resolve_with_scopes_and_masking() -> None:
    centres = _centres()
    query = """query($r: [_Any!]!) { _entities(representations: $r) {
      __typename ... on Citizen { name idNumber } ... on MediationCase { reference }
      ... on GridMatter { reference } } }"""
    reps = [{"__typename": "Citizen", "idNumber": ALICE},
            {"__typename": "MediationCase", "id": encode_id(_mediation(), "M1")},
            {"__typename": "GridMatter", "id": encode_id(_governance(), "G1")}]
    full = await SUBGRAPH.execute(query, variable_values={"r": reps},
                                  context_value=_context(centres, scopes=READ_ALL | {"pii:read"}))
    assert full.errors is None, full.errors
    assert full.data is not None
    citizen, mediation, grid = full.data["_entities"]
    assert citizen == {"__typename": "Citizen", "name": "张三", "idNumber": ALICE}
    assert mediation == {"__typename": "MediationCase", "reference": "M1"}
    assert grid == {"__typename": "GridMatter", "reference": "G1"}
    # Without pii:read the citizen comes back masked; without mediation:read there is no case.
    narrow = await SUBGRAPH.execute(query, variable_values={"r": reps}, context_value=_context(
        _centres(), scopes=READ_ALL - {"mediation:read"}))
    assert narrow.data is not None
    citizen, mediation, _ = narrow.data["_entities"]
    assert citizen["idNumber"] != ALICE and citizen["name"] != "张三"
    assert mediation is None


def _mediation():  # type: ignore[no-untyped-def]
    from onedoor.model import Centre

    return Centre.MEDIATION


def _governance():  # type: ignore[no-untyped-def]
    from onedoor.model import Centre

    return Centre.GOVERNANCE


def test_schema_reference_is_generated_from_the_sdl() -> None:
    from schema.reference import reference_markdown

    doc = Path(__file__).parents[2] / "docs" / "schema-reference.md"
    assert doc.read_text(encoding="utf-8") == reference_markdown(), (
        "docs/schema-reference.md is stale: run `make schema`")
    assert "### Citizen" in reference_markdown() and "| `citizen(idNumber: String!)`" in reference_markdown()
