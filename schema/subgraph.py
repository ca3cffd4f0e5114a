"""The schema as an Apollo Federation v2 subgraph, so a provincial supergraph
can compose OneDoor beside other services.

Entities: ``Citizen`` keyed by ``idNumber`` and the five matter types keyed by
``id`` (the global id). The keys exist *only* in subgraph mode: the default
SDL (``schema/schema.graphql``) stays free of federation directives, so the
code-first types are shared and the ``@key`` directives are attached to their
definitions just while the subgraph schema is built and its SDL printed. The
SDL is printed once and served from ``_service`` (it never changes at run time).

One rename, in subgraph mode only: the governance centre's own subgraph
already owns an entity ``GridEvent`` (key ``eventNo``, its native shape), so
OneDoor's unified view of a grid event is published as ``GridMatter`` —
otherwise a supergraph with both cannot compose (field types differ).

Entity references call the very resolvers of ``Query.citizen`` / ``Query.matter``:
scopes, jurisdiction, masking and the audit stage apply unchanged. A caller
without ``pii:read`` sees masked resident IDs, so a router can only follow a
``Citizen`` reference for callers who may see the clear ID.

Example::

    schema = build_schema(federation=True)
    print(schema.as_str())          # what `make schema` writes to schema/subgraph.graphql
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import strawberry
import strawberry.federation
from strawberry.federation.schema import FederationAny
from strawberry.federation.schema_directives import Key
from strawberry.printer import print_schema
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.name_converter import NameConverter
from strawberry.types.base import StrawberryObjectDefinition

from .citizen import Citizen
from .matter import MATTER_TYPES, CourtCase, GridEvent, LegalServiceRequest, MediationCase, Petition
from .query import Query

__all__ = ["ENTITY_KEYS", "SUBGRAPH_RENAMES", "OneDoorSubgraph", "build_subgraph", "subgraph_sdl"]

ENTITY_KEYS: dict[type, str] = {
    Citizen: "idNumber",
    **{t: "id" for t in MATTER_TYPES.values()},
}
SUBGRAPH_RENAMES = {"GridEvent": "GridMatter"}
_MATTER_NAMES = {SUBGRAPH_RENAMES.get(t.__name__, t.__name__): t for t in MATTER_TYPES.values()}


class _SubgraphNames(NameConverter):
    def from_object(self, object_type: StrawberryObjectDefinition) -> str:
        name = super().from_object(object_type)
        return SUBGRAPH_RENAMES.get(name, name)


@contextlib.contextmanager
def _keys_attached() -> Iterator[None]:
    saved = []
    for cls, fields in ENTITY_KEYS.items():
        definition = cls.__strawberry_definition__  # type: ignore[attr-defined]
        saved.append((definition, definition.directives))
        definition.directives = [*definition.directives, Key(fields=fields)]  # type: ignore[arg-type]
    try:
        yield
    finally:
        for definition, directives in saved:
            definition.directives = directives


@strawberry.type(name="_Service")
class _Service:
    sdl: str


class OneDoorSubgraph(strawberry.federation.Schema):
    """A federation schema whose entity keys live only here."""

    def __init__(self, **kwargs: Any) -> None:
        sdl_box: list[str] = []

        @strawberry.type(name="Query", description=Query.__strawberry_definition__.description)  # type: ignore[attr-defined]
        class SubgraphQuery(Query):
            @strawberry.field(name="_service")
            def service(self) -> _Service:
                return _Service(sdl=sdl_box[0])

        with _keys_attached():
            super().__init__(query=SubgraphQuery, **kwargs)
            self.sdl = print_schema(self)
        sdl_box.append(self.sdl)

    def as_str(self) -> str:
        return self.sdl

    async def entities_resolver(  # type: ignore[override]
        self, info: strawberry.Info, representations: list[FederationAny]
    ) -> list[FederationAny]:
        """Resolve references as the ``citizen`` / ``matter`` fields would."""
        out: list[Any] = []
        citizen, matter = _root_resolver("citizen"), _root_resolver("matter")
        for raw in representations:
            rep: dict[str, Any] = dict(raw)  # type: ignore[call-overload]
            typename = rep.get("__typename")
            try:
                if typename == "Citizen":
                    out.append(await citizen(Query(), info, str(rep["idNumber"])))
                elif typename in _MATTER_NAMES:
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
    from .extensions import PartialResults

    return OneDoorSubgraph(
        types=[MediationCase, LegalServiceRequest, Petition, CourtCase, GridEvent],
        extensions=[PartialResults, *extensions],
        config=StrawberryConfig(name_converter=_SubgraphNames(),
                                disable_field_suggestions=not suggestions,
                                batching_config={"max_operations": max_batch}),
        federation_version="2.11",
    )


def subgraph_sdl() -> str:
    return build_subgraph().as_str() + "\n"


if __name__ == "__main__":  # `make schema`: python -m schema.subgraph > schema/subgraph.graphql
    import sys

    sys.stdout.write(subgraph_sdl())
