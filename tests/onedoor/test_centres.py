"""The centres table is the one source every layer reads."""

from __future__ import annotations

from connectors.errors import CentreUnavailable
from onedoor.centres import CENTRES
from onedoor.model import Centre
from policy.principal import SCOPES
from schema import build_schema
from schema.context import CENTRE_SCOPES
from schema.matter import MATTER_TYPES


def test_every_centre_has_a_row() -> None:
    assert set(CENTRES) == set(Centre)


def test_the_schema_types_are_the_tables() -> None:
    schema = build_schema()
    for centre, info in CENTRES.items():
        assert schema.get_type_by_name(info.graphql_type) is not None
        assert MATTER_TYPES[centre].__name__ == info.graphql_type


def test_scopes_and_names_come_from_the_table() -> None:
    assert {CENTRE_SCOPES[c] for c in Centre} <= set(SCOPES)
    for centre, info in CENTRES.items():
        assert CENTRE_SCOPES[centre] == info.read_scope
        assert info.name_zh in str(CentreUnavailable(centre))
