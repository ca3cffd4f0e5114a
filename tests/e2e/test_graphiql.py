"""GraphiQL on a network without the public internet, in a real headless Chromium.

Deployments live on government intranets: a GraphiQL page that loads React or
GraphiQL from a CDN is an empty page there. Chromium gets no route to any host
but the gateway (every host name but 127.0.0.1 unresolvable, every other
address sent to a dead proxy); the page must load its assets from the gateway,
introspect, and run a query typed into it — driven over the DevTools protocol,
which also lists every request the page made. Without ``/usr/bin/chromium`` the
test skips with the reason, unless ``ONEDOOR_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import itertools
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pytest
import pytest_asyncio
from httpx_ws import AsyncWebSocketSession, aconnect_ws

from policy.personas import persona_claims
from sandbox.idp import mint_token
from sandbox.runner import Sandbox
from tests.e2e.browser import ARTIFACTS, BASE_FLAGS, CHROMIUM, need_chromium, serving_demo

OFFLINE = ("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
           "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=127.0.0.1")
FLAGS = (*BASE_FLAGS, "--disable-dev-shm-usage", "--window-size=1280,900", "--remote-debugging-port=0",
         "--remote-allow-origins=*", *OFFLINE)
QUERY = "{ centres { centre status } }"

pytestmark = pytest.mark.asyncio(loop_scope="module")


def _need_chromium() -> None:
    need_chromium("GraphiQL")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def served(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[str, Sandbox]]:
    """The sandbox and a demo-mode gateway (GraphiQL on) on real loopback ports."""
    async with serving_demo(tmp_path_factory.mktemp("graphiql"), matters=300) as served:
        yield served


class DevTools:
    """Just enough of the Chrome DevTools protocol: commands by id, events kept."""

    def __init__(self, ws: AsyncWebSocketSession) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []
        self.pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while True:
            message = json.loads(await self.ws.receive_text())
            if "id" in message and (future := self.pending.pop(message["id"], None)) is not None:
                future.set_result(message)
            elif "method" in message:
                self.events.append(message)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self.ids)
        future = self.pending[ident] = asyncio.get_running_loop().create_future()
        await self.ws.send_text(json.dumps({"id": ident, "method": method, "params": params}))
        reply = await asyncio.wait_for(future, timeout=60)
        assert "error" not in reply, reply
        result: dict[str, Any] = reply["result"]
        return result

    async def evaluate(self, expression: str) -> Any:
        reply = await self.send("Runtime.evaluate", expression=expression, awaitPromise=True,
                                returnByValue=True)
        assert "exceptionDetails" not in reply, reply["exceptionDetails"]
        return reply["result"].get("value")

    async def wait_for(self, method: str, within: float = 30) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + within
        while asyncio.get_running_loop().time() < deadline:
            for event in self.events:
                if event["method"] == method:
                    return event
            await asyncio.sleep(0.05)
        raise AssertionError(f"no {method} within {within} s")


@contextlib.asynccontextmanager
async def _browser(tmp: Path) -> AsyncIterator[DevTools]:
    proc = await asyncio.create_subprocess_exec(
        str(CHROMIUM), *FLAGS, f"--user-data-dir={tmp}", "about:blank",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    assert proc.stderr is not None
    try:
        endpoint = None
        async with asyncio.timeout(60):
            while endpoint is None:
                line = (await proc.stderr.readline()).decode()
                assert line, "chromium exited before DevTools listened"
                if match := re.search(r"DevTools listening on (ws://\S+)", line):
                    endpoint = match.group(1)
        port = urlsplit(endpoint).port
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            targets = (await client.get("/json/list")).json()
            page = next(t for t in targets if t["type"] == "page")
            async with aconnect_ws(page["webSocketDebuggerUrl"], client,
                                   max_message_size_bytes=32 * 1024 * 1024) as ws:
                tools = DevTools(ws)
                try:
                    yield tools
                finally:
                    tools.reader.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await tools.reader
    finally:
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), timeout=20)
        except TimeoutError:
            proc.kill()
            await proc.wait()


RUN_QUERY = """(async () => {
  const until = async (test, what) => {
    for (let i = 0; i < 300; i++) { const v = test(); if (v) return v; await new Promise(r => setTimeout(r, 100)); }
    throw new Error("timed out waiting for " + what + ": " + document.body.innerText.slice(0, 500));
  };
  await until(() => document.querySelector(".graphiql-query-editor .CodeMirror"), "the query editor");
  (await until(() => document.querySelector(".graphiql-execute-button"), "the run button")).click();
  // The result pane is a CodeMirror 5 editor: its value is the response as JSON.
  const result = () => document.querySelector(".result-window .CodeMirror");
  await until(() => result() && result().CodeMirror.getValue().includes("centres"), "the result");
  return result().CodeMirror.getValue();
})()"""


async def test_graphiql_renders_and_runs_a_query_offline(served: tuple[str, Sandbox], tmp_path: Path) -> None:
    _need_chromium()
    base, sb = served
    token = mint_token(sb.state_dir, {"iss": sb.idp_url, **persona_claims("caseworker")}, ttl=600)
    headers = json.dumps({"Authorization": f"Bearer {token}"})
    url = f"{base}/graphql?q={quote(QUERY)}&headers={quote(headers)}"
    async with _browser(tmp_path / "chromium") as browser:
        await browser.send("Network.enable")
        await browser.send("Page.enable")
        await browser.send("Page.navigate", url=url)
        await browser.wait_for("Page.loadEventFired")
        # The network really is cut off: the CDN strawberry's page uses is out of reach.
        reached = await browser.evaluate(
            "fetch('https://unpkg.com/react@18.2.0/umd/react.production.min.js')"
            ".then(() => 'reached', () => 'blocked')")
        assert reached == "blocked"
        result = await browser.evaluate(RUN_QUERY)
        shot = await browser.send("Page.captureScreenshot", format="png")
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "graphiql.png").write_bytes(base64.b64decode(shot["data"]))
        urls = {e["params"]["requestId"]: e["params"]["request"]["url"] for e in browser.events
                if e["method"] == "Network.requestWillBeSent"}
        failed = [(urls.get(e["params"]["requestId"]), e["params"]["errorText"]) for e in browser.events
                  if e["method"] == "Network.loadingFailed"]
    body = json.loads(result)
    assert "errors" not in body, body
    assert {c["centre"] for c in body["data"]["centres"]} == {
        "MEDIATION", "LEGAL_SERVICES", "PETITIONS", "LITIGATION", "GOVERNANCE"}
    probe = "https://unpkg.com/"  # our own reachability probe above
    page_requests = [u for u in urls.values() if not u.startswith(("data:", probe))]
    assert all(u.startswith(base + "/") for u in page_requests), page_requests
    assert any(u.endswith("/graphiql/static/graphiql.min.js") for u in page_requests), page_requests
    assert [f for f in failed if not (f[0] or "").startswith(probe)] == []


async def test_assets_are_served_with_their_integrity(served: tuple[str, Sandbox]) -> None:
    """Every asset the page names is served, and matches the hash the page pins."""
    base, _ = served
    async with httpx.AsyncClient(base_url=base) as client:
        page = (await client.get("/graphql", headers={"Accept": "text/html"})).text
        assets = re.findall(r'(?:src|href)="(graphiql/static/[^"]+)" integrity="(sha384-[^"]+)"', page)
        assert len(assets) == 6, page[:2000]
        assert not re.findall(r'(?:src|href)="(?:https?:)?//', page)  # nothing from another host

        for path, integrity in assets:
            response = await client.get(f"/{path}")
            assert response.status_code == 200, path
            digest = base64.b64encode(hashlib.sha384(response.content).digest()).decode()
            assert integrity == f"sha384-{digest}", path
