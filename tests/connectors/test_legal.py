from __future__ import annotations

import asyncio
import datetime as dt
import json
from urllib.parse import parse_qs

import httpx
import pytest

from connectors.base import ListQuery
from connectors.errors import CentreBadResponse, CentreUnavailable
from connectors.legal import LegalConnector, parse_search, search_params
from connectors.settings import LegalSettings
from onedoor.model import CST, LinkRelation, MatterStatus, PartyKind

from .conftest import FAST, payload

A = "632301198001011237"
C = "63232119900303001X"


def test_parse_search_maps_fields_cursor_and_total() -> None:
    items, total, cursor = parse_search(payload("legal_search.json"))
    assert (total, cursor) == (57, "c2")
    aid, correction = items
    assert aid.status is MatterStatus.IN_PROGRESS and aid.centre_status == "审查中"
    assert aid.received_at == dt.datetime(2024, 3, 5, 9, 30, tzinfo=CST)
    assert aid.due_at == dt.datetime(2024, 3, 13, tzinfo=CST)
    assert aid.extra["service_type"] == "LEGAL_AID"
    assert aid.extra["decision_due_at"] == aid.due_at and aid.extra["is_minor"] is False
    assert aid.parties[0].id_number == A and aid.parties[0].role == "APPLICANT"
    assert aid.parties[1].kind is PartyKind.ORGANISATION
    assert [(lk.relation, lk.native_id) for lk in aid.links] == [
        (LinkRelation.LEGAL_AID_FOR, "（2024）青2301民初12号")
    ]
    assert aid.events[1].at == dt.datetime(2024, 3, 6, 9, 0, tzinfo=CST)  # Z → CST
    assert correction.category == "其他" and correction.extra["is_minor"] is True
    assert correction.parties[0].id_number == C  # lowercase x canonicalised


def test_search_params_repeat_keys() -> None:
    params = search_params(
        ListQuery(region_prefixes=("63", "6502"), statuses=(MatterStatus.IN_PROGRESS,),
                  received_from=dt.datetime(2024, 1, 1, tzinfo=CST), overdue=False, limit=5),
        id_numbers=[A], limit=5, cursor="abc",
    )
    assert params == [
        ("id_number", A), ("limit", "5"), ("cursor", "abc"), ("region_prefix", "63"),
        ("region_prefix", "6502"), ("status", "under_review"), ("status", "assigned"),
        ("submitted_from", "2024-01-01T00:00:00+08:00"), ("overdue", "false"),
    ]


class FakeLegal:
    """A token endpoint plus the applications API, counting token fetches."""

    def __init__(self) -> None:
        self.tokens_issued = 0
        self.valid = "t1"

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            form = parse_qs(request.content.decode())
            assert form["grant_type"] == ["client_credentials"]
            self.tokens_issued += 1
            return httpx.Response(200, json={"access_token": f"t{self.tokens_issued}",
                                             "token_type": "Bearer", "expires_in": 3600,
                                             "scope": "legal.read"})
        if request.headers.get("Authorization") != f"Bearer {self.valid}":
            return httpx.Response(401, headers={"WWW-Authenticate": "Bearer"})
        body = payload("legal_search.json")
        return httpx.Response(200, json={"data": body["data"][:1], "not_found": ["FY-X"]})


def _connector(fake: FakeLegal) -> LegalConnector:
    settings = LegalSettings(base_url="http://legal.test", token_url="http://idp.test/oauth/token")
    return LegalConnector(settings, FAST, transport=httpx.MockTransport(fake))


async def test_token_is_fetched_lazily_once_under_a_burst() -> None:
    fake = FakeLegal()
    conn = _connector(fake)
    assert fake.tokens_issued == 0
    results = await asyncio.gather(*(conn.get_many(["FY2024632301000123"]) for _ in range(8)))
    await conn.aclose()
    assert fake.tokens_issued == 1
    assert all(set(r) == {"FY2024632301000123"} for r in results)


async def test_401_refetches_the_token_once() -> None:
    fake = FakeLegal()
    conn = _connector(fake)
    await conn.get_many(["FY2024632301000123"])
    fake.valid = "t2"  # the centre stops accepting the first token (e.g. key rotation)
    found = await conn.get_many(["FY2024632301000123"])
    fake.valid = "never"
    with pytest.raises(CentreUnavailable):
        await conn.get_many(["FY2024632301000123"])
    await conn.aclose()
    assert set(found) == {"FY2024632301000123"}
    assert fake.tokens_issued == 3


async def test_rejected_client_is_unavailable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": "invalid_client"})

    settings = LegalSettings(base_url="http://legal.test", token_url="http://idp.test/oauth/token")
    conn = LegalConnector(settings, FAST, transport=httpx.MockTransport(handler))
    health = await conn.health()
    await conn.aclose()
    assert not health.ok and health.error_code == "CENTRE_UNAVAILABLE"


async def test_bad_payload_is_bad_response() -> None:
    fake = FakeLegal()

    def broken(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return fake(request)
        return httpx.Response(200, content=json.dumps({"data": [{"status": "odd"}]}).encode())

    conn = LegalConnector(
        LegalSettings(base_url="http://legal.test", token_url="http://idp.test/oauth/token"),
        FAST, transport=httpx.MockTransport(broken),
    )
    with pytest.raises(CentreBadResponse):
        await conn.list_matters(ListQuery())
    await conn.aclose()
