"""The schema as an Apollo Federation v2 subgraph, so a provincial supergraph
can compose OneDoor beside other services.

It is the whole schema of :func:`schema.build_schema` — the same roots
(:mod:`schema.roots`: every query, the mutations and ``matterUpdates``) — plus
what federation adds:

- Entities: ``Citizen`` keyed by ``idNumber`` and the five matter types keyed
  by ``id`` (the global id). Entity references call the very resolvers of
  ``Query.citizen`` / ``Query.matter``: scopes, jurisdiction, masking and the
  audit stage apply unchanged. A caller without ``pii:read`` sees masked
  resident IDs, so a router can only follow a ``Citizen`` reference for
  callers who may see the clear ID.
- ``@requiresScopes`` is federation's own, imported with ``@link`` (v2.5+), so
  the supergraph carries every scope rule whose breach is a denial (root and
  object fields) and a router can see or enforce it; OneDoor still enforces
  them itself. The five matter types' own scopes are *row* rules — a matter
  from a centre the caller may not read is left out, the rest of the list
  stays — so they are not published: composition would copy them onto the
  ``Matter`` and ``Node`` interfaces as a conjunction (all five scopes, or
  ``citizen:self``), and a router enforcing that would refuse every matter to
  a caseworker lacking any one centre.
- Centres left out because the caller may not read them become one error each
  (``extensions.code = CENTRE_OMITTED``, ``extensions.centre``) besides
  ``extensions.omittedCentres``: gateways forward a subgraph's errors and drop
  its response extensions.

The keys and federation's directive exist *only* in subgraph mode: the default
SDL (``schema/schema.graphql``) stays free of federation, so the code-first
types are shared and the federation directives are attached to their
definitions just while the subgraph schema is built and its SDL printed. The
SDL is printed once and served from ``_service`` (it never changes at run time).

One rename, in subgraph mode only: the governance centre's own subgraph
already owns an entity ``GridEvent`` (key ``eventNo``, its native shape), so
OneDoor's unified view of a grid event is published as ``GridMatter`` —
otherwise a supergraph with both cannot compose (field types differ). The
interfaces' type resolution follows the rename.

Subscriptions: ``matterUpdates`` is part of the subgraph SDL and composes into
the supergraph's ``Subscription`` type. OneDoor serves it on its own
``/graphql`` WebSocket (graphql-transport-ws) in subgraph mode as in the
default one; whether a router passes subscriptions through is the router's
feature (Apollo Router and Hive Gateway can; Apollo Gateway, the Node library,
executes queries and mutations only).

Example::

    schema = build_subgraph()
    print(schema.as_str())          # what `make schema` writes to schema/subgraph.graphql
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from typing import Any

import strawberry
import strawberry.federation
from graphql import GraphQLError, GraphQLInterfaceType
from strawberry.federation.schema import FederationAny
from strawberry.federation.schema_directives import Key
from strawberry.federation.schema_directives import RequiresScopes as FederationScopes
from strawberry.permission import PermissionExtension
from strawberry.printer import print_schema
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.name_converter import NameConverter
from strawberry.types import ExecutionContext
from strawberry.types.base import StrawberryObjectDefinition, get_object_definition
from strawberry.types.lazy_type import LazyType
from strawberry.types.union import StrawberryUnion

from .citizen import Citizen
from .context import RequestContext
from .extensions import FederatedPartialResults, omitted_error
from .incidents import log_unexpected
from .matter import MATTER_TYPES
from .query import Query
from .roots import CONCRETE_TYPES, Mutation, RootQuery, Subscription
from .scopes import RequiresScopes, ScopePermission
from .validation import global_id_arg

__all__ = ["ENTITY_KEYS", "SUBGRAPH_RENAMES", "OneDoorSubgraph", "build_subgraph", "subgraph_sdl"]

ENTITY_KEYS: dict[type, str] = {
    Citizen: "idNumber",
    **{t: "id" for t in MATTER_TYPES.values()},
}
SUBGRAPH_RENAMES = {"GridEvent": "GridMatter"}
FEDERATION_VERSION = "2.11"
_MATTER_NAMES = {SUBGRAPH_RENAMES.get(t.__name__, t.__name__): t for t in MATTER_TYPES.values()}


class _SubgraphNames(NameConverter):
    def from_object(self, object_type: StrawberryObjectDefinition) -> str:
        name = super().from_object(object_type)
        return SUBGRAPH_RENAMES.get(name, name)


def _named_types(annotation: object) -> Iterator[type]:
    """The classes a field's type names (through lists, optionals, unions)."""
    while hasattr(annotation, "of_type"):
        annotation = annotation.of_type
    if isinstance(annotation, StrawberryUnion):
        for member in annotation.types:
            yield from _named_types(member)
    elif isinstance(annotation, LazyType):
        yield annotation.resolve_type()
    elif isinstance(annotation, type):
        yield annotation


def _definitions(roots: Iterable[type]) -> Iterator[StrawberryObjectDefinition]:
    """Every object and interface definition reachable from ``roots``."""
    seen: set[type] = set()
    pending = list(roots)
    while pending:
        cls = pending.pop()
        definition = get_object_definition(cls)
        if definition is None or cls in seen:
            continue
        seen.add(cls)
        yield definition
        pending.extend(i.origin for i in definition.interfaces)
        for field in definition.fields:
            pending.extend(_named_types(field.type))


def _federated(directive: object) -> object:
    if isinstance(directive, RequiresScopes):
        return FederationScopes(scopes=directive.scopes)
    return directive


def _type_directives(definition: StrawberryObjectDefinition) -> list[object]:
    """A type's directives in the subgraph: its row rules stay OneDoor's own."""
    key = ENTITY_KEYS.get(definition.origin)
    keys = [Key(fields=key)] if key else []  # type: ignore[arg-type]
    return [*(d for d in definition.directives or () if not isinstance(d, RequiresScopes)), *keys]


@contextlib.contextmanager
def _federation_attached(roots: Iterable[type]) -> Iterator[None]:
    """While the subgraph is built and printed: ``@key`` on the entities,
    federation's ``@requiresScopes`` in place of OneDoor's own directive on
    fields (and the permissions that add it to their fields), none on types."""
    undo: list[Callable[[], None]] = []

    def swap_list(items: list[Any], new: list[Any]) -> None:
        old = list(items)
        items[:] = new
        undo.append(lambda: items.__setitem__(slice(None), old))

    def swap_attr(owner: object, name: str, new: object) -> None:
        old = getattr(owner, name)
        setattr(owner, name, new)
        undo.append(lambda: setattr(owner, name, old))

    try:
        for definition in _definitions(roots):
            swap_attr(definition, "directives", _type_directives(definition))
            for field in definition.fields:
                swap_list(field.directives, [_federated(d) for d in field.directives])
                for extension in field.extensions:
                    if isinstance(extension, PermissionExtension):
                        for permission in extension.permissions:
                            if isinstance(permission, ScopePermission):
                                swap_attr(permission, "_schema_directive",
                                          _federated(permission.schema_directive))
        yield
    finally:
        for step in reversed(undo):
            step()


@strawberry.type(name="_Service")
class _Service:
    sdl: str


ResolveType = Callable[..., Awaitable[str | None] | str | None]


def _follow_renames(resolve: ResolveType) -> ResolveType:
    """An interface's type resolver answering with the subgraph's type names."""

    def resolve_type(obj: Any, info: Any, abstract_type: Any) -> Any:
        name = resolve(obj, info, abstract_type)
        return SUBGRAPH_RENAMES.get(name, name) if isinstance(name, str) else name

    return resolve_type


class OneDoorSubgraph(strawberry.federation.Schema):
    """A federation schema whose entity keys and federation directives live only here."""

    def __init__(self, **kwargs: Any) -> None:
        sdl_box: list[str] = []

        @strawberry.type(name="Query", description=Query.__strawberry_definition__.description)  # type: ignore[attr-defined]
        class SubgraphQuery(RootQuery):  # type: ignore[misc]
            @strawberry.field(name="_service")
            def service(self) -> _Service:
                return _Service(sdl=sdl_box[0])

        roots = (SubgraphQuery, Mutation, Subscription, *CONCRETE_TYPES)
        with _federation_attached(roots):
            super().__init__(query=SubgraphQuery, mutation=Mutation, subscription=Subscription,
                             types=list(CONCRETE_TYPES), **kwargs)
            self.sdl = print_schema(self)
        sdl_box.append(self.sdl)
        for graphql_type in self._schema.type_map.values():
            if isinstance(graphql_type, GraphQLInterfaceType) and graphql_type.resolve_type:
                graphql_type.resolve_type = _follow_renames(graphql_type.resolve_type)

    def as_str(self) -> str:
        return self.sdl

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        log_unexpected(errors, execution_context)

    async def entities_resolver(  # type: ignore[override]
        self, info: strawberry.Info, representations: list[FederationAny]
    ) -> list[FederationAny]:
        """Resolve references as the ``citizen`` / ``matter`` fields would."""
        out: list[Any] = []
        citizen, matter = _root_resolver("citizen"), _root_resolver("matter")
        ctx: RequestContext = info.context
        for raw in representations:
            rep: dict[str, Any] = dict(raw)  # type: ignore[call-overload]
            typename = rep.get("__typename")
            try:
                if typename == "Citizen":
                    out.append(await citizen(Query(), info, str(rep["idNumber"])))
                elif typename in _MATTER_NAMES:
                    centre, _ = global_id_arg(str(rep["id"]))
                    if not ctx.may_call(centre):
                        # left out by scope: the error sits at the reference's own (null) slot
                        ctx.omitted_centres.add(centre)
                        out.append(omitted_error(centre))
                        continue
                    found = await matter(Query(), info, str(rep["id"]))
                    out.append(found if type(found) is _MATTER_NAMES[typename] else None)
                else:
                    out.append(TypeError(f"not an entity of this subgraph: {typename}"))
            except Exception as exc:  # one bad reference fails only its own slot
                out.append(exc)
        return out


def _root_resolver(name: str) -> Any:
    """The function behind a root field, as written in :mod:`schema.query`."""
    definition = Query.__strawberry_definition__  # type: ignore[attr-defined]
    field = next(f for f in definition.fields if f.python_name == name)
    return field.base_resolver.wrapped_func


def build_subgraph(extensions: Sequence[Any] = (), *, suggestions: bool = True,
                   max_batch: int = 10) -> OneDoorSubgraph:
    return OneDoorSubgraph(
        extensions=[FederatedPartialResults, *extensions],
        config=StrawberryConfig(name_converter=_SubgraphNames(),
                                disable_field_suggestions=not suggestions,
                                batching_config={"max_operations": max_batch}),
        federation_version=FEDERATION_VERSION,
    )


def subgraph_sdl() -> str:
    return build_subgraph().as_str() + "\n"


if __name__ == "__main__":  # `make schema`: python -m schema.subgraph > schema/subgraph.graphql
    import sys

    sys.stdout.write(subgraph_sdl())
