"""Pure helpers the connectors' write side shares: the created record's body,
and finding a record again by the gateway's reference where a centre keeps no
idempotency key (it only echoes an external reference)."""

from __future__ import annotations

import json
from typing import Any

import httpx

from onedoor.model import Centre, MatterRecord

from ._common import expect_status
from ._connector import SearchConnector
from .base import MatterDraft
from .errors import CentreBadResponse

__all__ = ["created_json", "find_by_reference"]


def created_json(centre: Centre, response: httpx.Response) -> Any:
    """The body of a 200 (replayed) or 201 (created) answer to a create."""
    expect_status(centre, response, 200, 201)
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CentreBadResponse(centre, http_status=response.status_code,
                                detail=f"invalid JSON: {type(exc).__name__}") from exc


async def find_by_reference(connector: SearchConnector, draft: MatterDraft) -> MatterRecord | None:
    """Search the applicant's matters for the one carrying ``draft.reference`` as its
    external reference (a read: safe to repeat, unlike the create it settles)."""
    if draft.applicant.id_number is None:
        return None
    found = await connector.find_by_citizens([draft.applicant.id_number])
    return next((r for r in found.get(draft.applicant.id_number, ())
                 if r.extra.get("external_ref") == draft.reference), None)
