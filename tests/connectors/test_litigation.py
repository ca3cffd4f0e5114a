from __future__ import annotations

import datetime as dt
import json

import httpx
import pytest

from connectors.base import ListQuery
from connectors.errors import CentreBadResponse, CentreThrottled
from connectors.litigation import LitigationConnector, parse_search, search_params
from connectors.settings import LitigationSettings
from onedoor.model import CST, LinkRelation, MatterStatus

from .conftest import FAST, payload


def test_parse_search_epoch_ms_and_links() -> None:
    items, total, token = parse_search(payload("litigation_search.json"))
    assert (total, token) == (57, "t2")
    trial, confirmation = items
    assert trial.received_at == dt.datetime(2024, 3, 5, 9, 30, tzinfo=CST)
    assert trial.status is MatterStatus.IN_PROGRESS
    assert trial.extra["case_number"] == "（2024）青2301民初12号"
    assert trial.extra["court"] == "同仁市人民法院" and trial.extra["court_code"] == "青2301"
    assert trial.extra["procedure"] == "FIRST_INSTANCE"
    assert {lk.relation for lk in trial.links} == {
        LinkRelation.LEGAL_AID, LinkRelation.PRE_LITIGATION_MEDIATION
    }
    assert confirmation.links[0].relation is LinkRelation.CONFIRMS
    assert confirmation.category == "其他" and confirmation.extra["cause"] == "民间借贷"
    assert confirmation.closed_at is not None and confirmation.due_at is None


def test_search_params_epoch_ms() -> None:
    params = search_params(
        ListQuery(received_to=dt.datetime(2024, 3, 5, 9, 30, tzinfo=CST),
                  statuses=(MatterStatus.TERMINATED,)), page_size=7,
    )
    assert params == [("pageSize", "7"), ("state", "WITHDRAWN"), ("filedTo", "1709602200000")]


def _connector(handler: httpx.MockTransport) -> LitigationConnector:
    return LitigationConnector(LitigationSettings(base_url="http://court.test"), FAST,
                               transport=handler)


async def test_batch_get_posts_case_numbers_with_client_id() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        cases = payload("litigation_search.json")["cases"][:1]
        return httpx.Response(200, json={"cases": cases, "notFound": ["（2099）无1号"]})

    conn = _connector(httpx.MockTransport(handler))
    found = await conn.get_many(["（2024）青2301民初12号", "（2099）无1号"])
    await conn.aclose()
    assert list(found) == ["（2024）青2301民初12号"]
    assert seen[0].method == "POST" and seen[0].url.path == "/cases:batchGet"
    assert seen[0].headers["X-Client-Id"] == "onedoor-gateway"
    sent = json.loads(seen[0].content)
    assert sent == {"caseNumbers": ["（2024）青2301民初12号", "（2099）无1号"]}


async def test_throttled_batch_read_is_retried_then_gives_up() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(429, headers={"Retry-After": "0"})

    conn = _connector(httpx.MockTransport(handler))
    with pytest.raises(CentreThrottled):
        await conn.get_many(["（2024）青2301民初12号"])
    await conn.aclose()
    assert calls == FAST.retries.max_attempts


async def test_truncated_body_is_bad_response() -> None:
    conn = _connector(httpx.MockTransport(lambda r: httpx.Response(200, content=b'{"cases": [{')))
    with pytest.raises(CentreBadResponse):
        await conn.list_matters(ListQuery())
    await conn.aclose()
