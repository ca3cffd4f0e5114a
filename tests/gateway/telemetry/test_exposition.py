"""``/metrics`` answers what the scraper asks for: Prometheus asks for
OpenMetrics first (``Accept: application/openmetrics-text``), older scrapers
and curl get the text format; no ``*_created`` series beside the counters."""

from __future__ import annotations

import httpx

from policy.principal import Principal
from tests.gateway.harness import client

OPENMETRICS = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"


async def _scrape(http: httpx.AsyncClient, accept: str | None) -> httpx.Response:
    await http.post("/graphql", json={"query": "{ __typename }"})  # a counter moves
    response = await http.get("/metrics", headers={"Accept": accept} if accept else {})
    assert response.status_code == 200
    return response


async def test_openmetrics_when_the_scraper_asks_for_it() -> None:
    principals: dict[str, Principal] = {}
    async with client({}, principals) as http:
        response = await _scrape(http, OPENMETRICS)
    assert response.headers["content-type"].startswith("application/openmetrics-text; version=1.0.0")
    assert "accept" in response.headers["vary"].lower()
    text = response.text
    assert text.rstrip().endswith("# EOF")
    # OpenMetrics names the counter family without ``_total`` and its sample with it.
    assert "# TYPE onedoor_graphql_operations counter" in text
    assert 'onedoor_graphql_operations_total{operation="anonymous",outcome="ok"}' in text


async def test_text_format_otherwise() -> None:
    principals: dict[str, Principal] = {}
    async with client({}, principals) as http:
        for accept in (None, "text/plain", "*/*"):
            response = await _scrape(http, accept)
            assert response.headers["content-type"].startswith("text/plain"), accept
            assert "# EOF" not in response.text
            assert "# TYPE onedoor_graphql_operations_total counter" in response.text


async def test_no_created_series() -> None:
    principals: dict[str, Principal] = {}
    async with client({}, principals) as http:
        for accept in (None, OPENMETRICS):
            text = (await _scrape(http, accept)).text
            assert "onedoor_graphql_operations_total" in text
            assert "_created" not in text, [line for line in text.splitlines() if "_created" in line][:3]
