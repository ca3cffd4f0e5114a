"""The published SDL (schema/schema.graphql) is the contract portal teams read."""

from __future__ import annotations

from pathlib import Path

from schema import sdl

SDL_FILE = Path(__file__).parents[2] / "schema" / "schema.graphql"


def test_exported_sdl_matches_the_code() -> None:
    assert SDL_FILE.read_text(encoding="utf-8") == sdl(), (
        "schema/schema.graphql is stale: run `make schema`"
    )


def test_minimum_public_shape_is_present() -> None:
    text = sdl()
    for needle in (
        "enum Centre", "interface Node", "interface Matter implements Node",
        "type MediationCase implements Matter & Node", "type CourtCase implements Matter & Node",
        "type GridEvent implements Matter & Node", "type Petition implements Matter & Node",
        "type LegalServiceRequest implements Matter & Node",
        "citizen(idNumber: String!): Citizen", "matters(filter: MatterFilter = null, first: Int! = 20",
        "region(code: String!): Region", "node(id: ID!): Node", "totalCount: Int!",
    ):
        assert needle in text, needle
