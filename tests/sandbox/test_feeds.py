"""The centres' feeds over real sockets: LEGAL_SERVICES' changed-since cursor and
PETITIONS' nightly export (sandbox/API.md, "Feeds")."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from defusedxml import ElementTree

from onedoor.model import Centre
from sandbox.runner import Sandbox

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


async def _token(http: httpx.AsyncClient, sb: Sandbox) -> dict[str, str]:
    response = await http.post(f"{sb.idp_url}/oauth/token",
                               data={"grant_type": "client_credentials", "scope": "legal.read"},
                               auth=("onedoor-legal", "legal-demo-secret"))
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def test_changes_sweep_everything_then_follow_the_journal(sb: Sandbox, http: httpx.AsyncClient) -> None:
    url = sb.urls[Centre.LEGAL_SERVICES] + "/v1/changes"
    assert (await http.get(url)).status_code == 401
    auth = await _token(http, sb)
    assert (await http.get(url, params={"cursor": "bad"}, headers=auth)).status_code == 400
    seen: list[str] = []
    cursor = ""
    while True:
        body = (await http.get(url, params={"cursor": cursor, "limit": 1000}, headers=auth)).json()
        seen += [a["application_no"] for a in body["data"]]
        cursor = body["next_cursor"]
        if not body["has_more"]:
            break
    assert len(set(seen)) == sb.world.count(Centre.LEGAL_SERVICES)
    # nothing new: an empty page with the same cursor
    again = (await http.get(url, params={"cursor": cursor}, headers=auth)).json()
    assert again == {"data": [], "next_cursor": cursor, "has_more": False}
    moved = seen[0]
    await http.post(f"{sb.urls[Centre.LEGAL_SERVICES]}/_sandbox/matters/{moved}/status", json={"status": "closed"})
    after = (await http.get(url, params={"cursor": cursor}, headers=auth)).json()
    assert [a["application_no"] for a in after["data"]] == [moved]
    assert after["data"][0]["status"] == "closed" and not after["has_more"]


async def test_nightly_export_lists_and_serves_dumps(sb: Sandbox, http: httpx.AsyncClient) -> None:
    base = sb.urls[Centre.PETITIONS]
    listing = ElementTree.fromstring((await http.get(base + "/xf/export")).content)
    files = listing.findall("wj")
    assert len(files) == 1 and int(files[0].findtext("jls") or 0) == sb.world.count(Centre.PETITIONS)
    name = files[0].findtext("mc")
    dump = ElementTree.fromstring(gzip.decompress((await http.get(f"{base}/xf/export/{name}")).content))
    assert len(dump.findall("xfjl")) == sb.world.count(Centre.PETITIONS) and dump.findtext("dcsj")
    assert (await http.get(base + "/xf/export/nope.xml.gz")).status_code == 404
    cut = await http.post(base + "/_sandbox/export")
    assert cut.status_code == 201
    assert len(ElementTree.fromstring((await http.get(base + "/xf/export")).content).findall("wj")) == 2
