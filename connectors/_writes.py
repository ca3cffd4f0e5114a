"""Helpers the connectors' write side shares: the created record's body, finding
a record again by the gateway's reference where a centre keeps no idempotency
key (it only echoes an external reference), and the one send of an "add a link
to an existing record" write."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx

from onedoor.model import Centre, MatterRecord

from ._common import expect_status
from ._connector import SearchConnector
from .base import MatterDraft
from .errors import CentreBadResponse
from .http import CentreClient

__all__ = ["created_json", "find_by_reference", "link_path", "post_link"]


def link_path(prefix: str, native_id: str, suffix: str = "") -> str:
    """A record's URL path: the native id percent-encoded whole (court case numbers
    hold full-width brackets and Chinese; nothing in an id may add a path segment)."""
    return f"{prefix}/{quote(native_id, safe='')}{suffix}"


async def post_link(http: CentreClient, path: str, *, json_body: Any = None, content: bytes | None = None,
                    headers: dict[str, str] | None = None) -> httpx.Response:
    """Send an add-link write. Every centre keeps a link once however often it is sent,
    so — unlike a create without a key — it is retried like a read (``read_only``)."""
    async with http.budget():
        return await http.request("POST", path, json_body=json_body, content=content,
                                  headers=headers, read_only=True)


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
