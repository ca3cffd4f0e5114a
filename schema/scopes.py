"""``@requiresScopes``: Apollo's directive, printed in the SDL and enforced.

``scopes`` is a list of alternatives (OR), each a list of scopes that must all
be present (AND) — Apollo Router's semantics. A denied field resolves to
``null`` with one error carrying ``extensions.code = UNAUTHORIZED_FIELD_OR_TYPE``
and the scopes it needs; for a non-null field the null moves to the parent
as GraphQL requires.

Example::

    @strawberry.field(extensions=[requires_scopes(["audit:read"])])
    def audit_trail(self, ...) -> ...: ...
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import strawberry
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.schema_directive import Location

from .context import RequestContext

__all__ = ["READ_ANY", "RequiresScopes", "ScopePermission", "requires_scopes"]


@strawberry.schema_directive(
    name="requiresScopes",
    locations=[Location.FIELD_DEFINITION, Location.OBJECT, Location.INTERFACE],
    description="调用方须具备其中一组全部权限 / the caller needs every scope of one of the groups",
)
class RequiresScopes:
    scopes: list[list[str]]


class ScopePermission(BasePermission):
    def __init__(self, groups: Sequence[Sequence[str]]) -> None:
        # Alternatives listed twice (["citizen:self"] from two tables) print once.
        self.groups = tuple(dict.fromkeys(tuple(g) for g in groups))
        # strawberry reads the printed directive per instance (see LIBRARY-NOTES).
        self._schema_directive = RequiresScopes(  # type: ignore[misc]
            scopes=[list(g) for g in self.groups]
        )
        self.message = "无权访问该字段 / not authorised for this field or type"
        self.error_extensions = {
            "code": "UNAUTHORIZED_FIELD_OR_TYPE",
            "requiredScopes": [list(g) for g in self.groups],
        }

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        ctx: RequestContext = info.context
        held = ctx.principal.scopes
        return any(all(scope in held for scope in group) for group in self.groups)


def requires_scopes(*groups: Sequence[str]) -> PermissionExtension:
    return PermissionExtension([ScopePermission(groups)], use_directives=True, fail_silently=False)


# Any one centre's read scope, or a citizen reading their own data.
READ_ANY: tuple[tuple[str, ...], ...] = (
    ("mediation:read",), ("legal:read",), ("petitions:read",), ("litigation:read",),
    ("governance:read",), ("citizen:self",),
)


def type_scopes(scope: str) -> list[object]:
    """The directive for a centre's concrete type (printed; the data rule enforces it)."""
    return [RequiresScopes(scopes=[[scope], ["citizen:self"]])]
