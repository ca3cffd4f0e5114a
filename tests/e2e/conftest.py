"""End to end over real loopback sockets: the sandbox centres and identity
provider on free ports, the gateway built exactly as ``onedoor demo`` builds it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from connectors.registry import build_connectors
from connectors.settings import CallPolicy, demo_settings
from gateway.app import create_app
from gateway.demo import demo_settings_for
from policy.auth import build_authenticator
from policy.personas import persona_claims
from sandbox.idp import mint_token
from sandbox.runner import Sandbox, run_sandbox
from services.audit import AuditStore, open_audit_store


@dataclass
class OneDoor:
    sandbox: Sandbox
    http: httpx.AsyncClient
    audit: AuditStore

    def token(self, persona: str = "auditor", **overrides: Any) -> str:
        claims = persona_claims(persona, **overrides)
        return mint_token(self.sandbox.state_dir, {"iss": self.sandbox.idp_url, **claims}, ttl=600)

    async def query(self, query: str, token: str | None = None, **variables: Any) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token or self.token()}"}
        response = await self.http.post("/graphql", json={"query": query, "variables": variables},
                                        headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def stats(self) -> dict[str, dict[str, int]]:
        """Requests each centre served, by endpoint (real sockets, not the gateway)."""
        out = {}
        async with httpx.AsyncClient() as direct:
            for centre, url in self.sandbox.urls.items():
                response = await direct.get(f"{url}/_sandbox/stats")
                out[centre.value] = response.json()["byEndpoint"]
        return out

    async def reset_stats(self) -> None:
        async with httpx.AsyncClient() as direct:
            for url in self.sandbox.urls.values():
                (await direct.post(f"{url}/_sandbox/stats/reset")).raise_for_status()


@contextlib.asynccontextmanager
async def start_onedoor(state_dir: Path, policy: CallPolicy | None = None) -> AsyncIterator[OneDoor]:
    """The sandbox on free ports and the gateway built as ``onedoor demo`` builds it
    (optionally with another centre call policy, e.g. a short time budget)."""
    async with run_sandbox(None, state_dir) as sb:
        settings = demo_settings_for(dict(sb.urls), sb.idp_url, state_dir, port=8000)
        if policy is not None:
            settings = settings.model_copy(
                update={"centres": demo_settings(dict(sb.urls), sb.idp_url, policy=policy)})
        audit = await open_audit_store(settings.audit.url)
        authenticate = build_authenticator(settings.auth)
        connectors = build_connectors(settings.centres)
        app = create_app(settings, connectors, authenticate, audit=audit)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://gateway") as http:
            yield OneDoor(sb, http, audit)
        for connector in connectors.values():
            await connector.aclose()
        await authenticate.aclose()
        await audit.aclose()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def onedoor(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[OneDoor]:
    async with start_onedoor(tmp_path_factory.mktemp("onedoor")) as od:
        yield od
