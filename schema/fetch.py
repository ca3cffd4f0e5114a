"""Gathering records from several centres for one field, with partial results.

A failing centre contributes nothing and one error (its code and centre) at
the field's path; the other centres' records are still returned.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from connectors.errors import CentreError
from onedoor.model import Centre, MatterRecord
from policy.disclosure import Access

from .context import RequestContext
from .errors import centre_error
from .present import confidential_access

__all__ = ["citizen_records", "gather_centres", "report"]


def report(ctx: RequestContext, exc: CentreError, path: list[str | int]) -> None:
    ctx.partial_errors.append(centre_error(exc, path))


async def gather_centres(
    ctx: RequestContext,
    centres: Sequence[Centre],
    call: Callable[[Centre], Awaitable[list[MatterRecord]]],
    path: list[str | int],
) -> list[MatterRecord]:
    results = await asyncio.gather(*(call(c) for c in centres), return_exceptions=True)
    out: list[MatterRecord] = []
    for result in results:
        if isinstance(result, CentreError):
            report(ctx, result, path)
        elif isinstance(result, BaseException):
            raise result
        else:
            out.extend(result)
    return out


async def citizen_records(
    ctx: RequestContext,
    id_number: str,
    centres: Sequence[Centre] | None,
    path: list[str | int],
) -> list[MatterRecord]:
    """The citizen's matters at the requested centres that the caller may see.

    Confidential records (a protected reporter's report, a minor's file) are
    left out unless the caller may reach them (:func:`confidential_access`)."""
    wanted = tuple(centres) if centres is not None else tuple(Centre)
    callable_ = [c for c in wanted if ctx.may_call(c)]
    ctx.omitted_centres.update(c for c in wanted if not ctx.may_call(c))
    records = await gather_centres(
        ctx, callable_, lambda c: ctx.loaders.matters_of(c, id_number), path
    )
    return [r for r in records
            if ctx.visible(r) and confidential_access(r, ctx, path) is not Access.HIDDEN]


