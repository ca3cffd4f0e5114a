"""The field stage of disclosure: every personal-data field is declared with
:func:`personal_data`, which attaches :class:`Disclosed`; that extension passes
the field's raw value through :func:`policy.disclosure.disclose` with the
caller's principal and the object's ``protections``. Objects hold raw values;
nothing is masked by hand anywhere else.

A type without a ``protections`` attribute gets no record-level protection
(the ``pii:read`` rule alone). ``tests/schema/test_disclosure_coverage.py``
walks the schema and fails on a personal-data field declared without it.

Example::

    @strawberry.type
    class Party:
        name: str = personal_data(Kind.NAME, "姓名 / name")
        protections: strawberry.Private[Protections]
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.extensions.field_extension import AsyncExtensionResolver, SyncExtensionResolver

from policy.disclosure import UNPROTECTED, Kind, Protections, disclose, in_clear

from .context import RequestContext

__all__ = ["Disclosed", "personal_data"]


class Disclosed(FieldExtension):
    """Discloses the resolved value; a value shown in clear is recorded for the
    audit stage as ``Type.field``."""

    def __init__(self, kind: Kind) -> None:
        self.kind = kind

    def resolve(self, next_: SyncExtensionResolver, source: Any, info: strawberry.Info,
                **kwargs: Any) -> Any:
        return self._disclose(next_(source, info, **kwargs), source, info)

    async def resolve_async(self, next_: AsyncExtensionResolver, source: Any,
                            info: strawberry.Info, **kwargs: Any) -> Any:
        return self._disclose(await next_(source, info, **kwargs), source, info)

    def _disclose(self, value: Any, source: Any, info: strawberry.Info) -> Any:
        if value is None:
            return None
        ctx: RequestContext = info.context
        protections: Protections = getattr(source, "protections", UNPROTECTED)
        if in_clear(self.kind, ctx.principal, protections):
            if not (self.kind is Kind.NAME and protections.public_name):
                ctx.unmasked_fields.add(f"{info.path.typename}.{info.field_name}")
            return value
        return disclose(self.kind, value, ctx.principal, protections)


def personal_data(kind: Kind, description: str) -> Any:
    """A field carrying personal data of ``kind``, disclosed per caller."""
    return strawberry.field(description=description, extensions=[Disclosed(kind)],
                            metadata={"personal_data": kind})
