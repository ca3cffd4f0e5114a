"""Subgraph mode serves the whole schema, links federation's ``@requiresScopes``,
resolves GOVERNANCE matters through the interfaces under their subgraph name,
and turns centres left out by scope into errors a gateway forwards (issue 14).

In process, no Node: what a gateway does with this is in tests/clients."""

from __future__ import annotations

from graphql import (
    GraphQLObjectType,
    InterfaceTypeDefinitionNode,
    ObjectTypeDefinitionNode,
    parse,
    print_ast,
)

from gateway.operation.audit import entry_for
from onedoor.model import Centre
from schema import build_schema
from schema.ids import encode_id
from schema.subgraph import subgraph_sdl
from tests.schema.test_query import ALICE, DASHBOARD, READ_ALL, _centres, _context

MAIN = build_schema()
SUBGRAPH = build_schema(federation=True)
FEDERATION_FIELDS = {"_service", "_entities"}


def _fields(schema: object, root: str) -> set[str]:
    graphql_type = schema._schema.get_type(root)  # type: ignore[attr-defined]
    assert isinstance(graphql_type, GraphQLObjectType), root
    return set(graphql_type.fields)


def test_every_root_field_of_the_schema_is_in_the_subgraph() -> None:
    assert _fields(SUBGRAPH, "Query") == _fields(MAIN, "Query") | FEDERATION_FIELDS
    assert _fields(SUBGRAPH, "Mutation") == _fields(MAIN, "Mutation")
    assert _fields(SUBGRAPH, "Subscription") == _fields(MAIN, "Subscription") == {"matterUpdates"}
    for name in ("centres", "overdue", "escalations", "statistics", "track", "auditTrail"):
        assert name in _fields(SUBGRAPH, "Query"), name


def test_requires_scopes_is_federations_own_imported_with_link() -> None:
    text = subgraph_sdl()
    assert ('@link(url: "https://specs.apollo.dev/federation/v2.11", '
            'import: ["@key", "@requiresScopes"])') in text
    assert "directive @requiresScopes" not in text  # defined by the spec, not by us
    main = MAIN.as_str()
    assert "directive @requiresScopes" in main and "@link" not in main
    # the field rules of the default SDL, rule for rule; the matter types' row
    # rules stay unpublished (composition would AND them onto Matter and Node)
    assert applied_scopes(text, on_types=False) == applied_scopes(main, on_types=False)
    assert len(applied_scopes(main, on_types=True)) == 5 and applied_scopes(text, on_types=True) == []
    assert 'Query.auditTrail: @requiresScopes(scopes: [["audit:read"]])' in applied_scopes(text, on_types=False)
    assert len(applied_scopes(text, on_types=False)) >= 15


def applied_scopes(sdl: str, *, on_types: bool) -> list[str]:
    """Every ``@requiresScopes`` argument applied on types (or on fields), printed."""
    found = []
    for definition in parse(sdl).definitions:
        if not isinstance(definition, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode):
            continue
        holders = [definition] if on_types else list(definition.fields or ())
        found += [f"{definition.name.value}.{h.name.value}: {print_ast(d)}"
                  for h in holders for d in h.directives or () if d.name.value == "requiresScopes"]
    return sorted(found)


async def test_a_grid_matter_resolves_through_the_interfaces_as_grid_matter() -> None:
    ctx = _context(_centres(), scopes=READ_ALL | {"pii:read"})
    grid = encode_id(Centre.GOVERNANCE, "G1")
    result = await SUBGRAPH.execute(
        "query($id: ID!) { matter(id: $id) { __typename id } node(id: $id) { __typename } }",
        variable_values={"id": grid}, context_value=ctx)
    assert result.errors is None, result.errors
    assert result.data == {"matter": {"__typename": "GridMatter", "id": grid},
                           "node": {"__typename": "GridMatter"}}
    dashboard = await SUBGRAPH.execute(DASHBOARD, variable_values={"id": ALICE}, context_value=_context(
        _centres(), scopes=READ_ALL | {"pii:read"}))
    assert dashboard.errors is None, dashboard.errors
    assert dashboard.data is not None
    names = {n["__typename"] for n in dashboard.data["citizen"]["matters"]["nodes"]}
    assert "GridMatter" in names and "GridEvent" not in names


async def test_centres_left_out_are_errors_with_a_code_and_a_path() -> None:
    scopes = frozenset({"mediation:read", "governance:read"})
    result = await SUBGRAPH.execute(DASHBOARD, variable_values={"id": ALICE},
                                    context_value=_context(_centres(), scopes=scopes))
    assert result.data is not None and result.data["citizen"]["matters"]["nodes"]
    errors = [e.formatted for e in result.errors or []]
    assert [(e["extensions"]["code"], e["extensions"]["centre"], e["path"]) for e in errors] == [
        ("CENTRE_OMITTED", centre, ["citizen", "matters"])
        for centre in ("LEGAL_SERVICES", "LITIGATION", "PETITIONS")]
    assert result.extensions == {"omittedCentres": ["LEGAL_SERVICES", "LITIGATION", "PETITIONS"]}
    # the default schema keeps answering with the extension alone
    main = await MAIN.execute(DASHBOARD, variable_values={"id": ALICE},
                              context_value=_context(_centres(), scopes=scopes))
    assert main.errors is None and main.extensions == result.extensions


async def test_a_matter_of_a_centre_left_out_is_an_error_at_its_field() -> None:
    result = await SUBGRAPH.execute(
        "query($id: ID!) { matter(id: $id) { id } }",
        variable_values={"id": encode_id(Centre.LITIGATION, "C1")},
        context_value=_context(_centres(), scopes=frozenset({"mediation:read"})))
    assert result.data == {"matter": None}
    assert [(e.extensions or {}).get("code") for e in result.errors or []] == ["CENTRE_OMITTED"]
    assert result.errors is not None and result.errors[0].path == ["matter"]


async def test_a_matter_reference_of_a_centre_left_out_is_an_error_at_its_slot() -> None:
    query = """query($r: [_Any!]!) { _entities(representations: $r) {
      __typename ... on Citizen { idNumber } ... on GridMatter { reference } } }"""
    reps = [{"__typename": "Citizen", "idNumber": ALICE},
            {"__typename": "GridMatter", "id": encode_id(Centre.GOVERNANCE, "G1")}]
    result = await SUBGRAPH.execute(query, variable_values={"r": reps}, context_value=_context(
        _centres(), scopes=READ_ALL - {"governance:read"}))
    assert result.data is not None and result.data["_entities"][1] is None
    assert result.data["_entities"][0]["idNumber"]
    assert [(e.path, (e.extensions or {})["code"], (e.extensions or {})["centre"])
            for e in result.errors or []] == [(["_entities", 1], "CENTRE_OMITTED", "GOVERNANCE")]


async def test_an_omission_is_audited_as_a_denial_not_a_centre_failure() -> None:
    scopes = frozenset({"mediation:read", "governance:read"})
    ctx = _context(_centres(), scopes=scopes)
    result = await SUBGRAPH.execute(DASHBOARD, variable_values={"id": ALICE}, context_value=ctx)
    assert result.errors
    entry = entry_for(ctx, None, DASHBOARD, list(result.errors))
    assert entry is not None and entry.outcome == "ok"
    assert {(d.effect, d.reason, d.centre) for d in entry.decisions} >= {
        ("deny", "no_scope", "LITIGATION"), ("deny", "no_scope", "PETITIONS")}
