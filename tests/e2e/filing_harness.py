"""A gateway with a submissions store over the real sandbox, also listening on a
real socket so that the centres' webhooks can reach it. Its record cache runs on
:class:`CacheClock`, which a test may hold still to keep a record it has just read
cached (e.g. while that record's centre is faulted)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette

from connectors.cache import RecordCache
from connectors.registry import build_connectors
from gateway.app import create_app
from gateway.demo import demo_settings_for
from onedoor.model import Centre
from policy.auth import build_authenticator
from policy.personas import persona_claims
from sandbox.idp import mint_token
from sandbox.runner import Sandbox, run_sandbox
from services.audit import AuditStore, open_audit_store
from services.filing import FilingService, SubmissionStore, open_submission_store


class CacheClock:
    """Monotonic time, or one instant while :meth:`held` (cached records do not expire)."""

    def __init__(self) -> None:
        self.frozen: float | None = None

    def __call__(self) -> float:
        return time.monotonic() if self.frozen is None else self.frozen

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        self.frozen = time.monotonic()
        try:
            yield
        finally:
            self.frozen = None


@dataclass
class Gateway:
    sandbox: Sandbox
    app: Starlette
    http: httpx.AsyncClient
    audit: AuditStore
    store: SubmissionStore
    url: str  # where the gateway listens on a real socket (for webhooks)
    cache: RecordCache
    clock: CacheClock

    @property
    def service(self) -> FilingService:
        service = self.app.state.filing.service
        assert isinstance(service, FilingService)
        return service

    def token(self, persona: str, **overrides: Any) -> str:
        claims = persona_claims(persona, **overrides)
        return mint_token(self.sandbox.state_dir, {"iss": self.sandbox.idp_url, **claims}, ttl=600)

    async def query(self, query: str, token: str, **variables: Any) -> dict[str, Any]:
        response = await self.http.post("/graphql", json={"query": query, "variables": variables},
                                        headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def created(self, centre: Centre) -> int:
        """Records the centre holds that came through its write API."""
        assert self.sandbox.writes is not None
        return self.sandbox.writes.created[centre]

    async def create_calls(self) -> int:
        """Create requests the centres received (their own counters, over the wire)."""
        total = 0
        async with httpx.AsyncClient() as direct:
            for url in self.sandbox.urls.values():
                stats = (await direct.get(f"{url}/_sandbox/stats")).json()["byEndpoint"]
                total += sum(n for k, n in stats.items() if k in (
                    "POST /api/cases", "POST /v1/applications", "POST /xf/register", "POST /cases"))
        return total


@contextlib.asynccontextmanager
async def start_gateway(state_dir: Path) -> AsyncIterator[Gateway]:
    async with run_sandbox(None, state_dir, matters=3000) as sb:
        settings = demo_settings_for(dict(sb.urls), sb.idp_url, state_dir, port=8000,
                                     webhook_secrets=sb.webhook_secrets)
        audit = await open_audit_store(settings.audit.url)
        store = await open_submission_store(f"sqlite:///{state_dir / 'submissions.sqlite'}")
        authenticate = build_authenticator(settings.auth)
        clock = CacheClock()
        cache = RecordCache.from_settings(settings.centres.cache, clock=clock)
        connectors = build_connectors(settings.centres, cache=cache)
        app = create_app(settings, connectors, authenticate, audit=audit, submissions=store,
                         close_connectors=False)
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off",
                                               http="h11", ws="none"))
        task = asyncio.create_task(server.serve(sockets=[sock]))
        for _ in range(1000):  # uvicorn offers no start event
            if server.started:
                break
            await asyncio.sleep(0.01)
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                         base_url="http://gateway") as http:
                yield Gateway(sb, app, http, audit, store, url, cache, clock)
        finally:
            server.should_exit = True
            await task
            sock.close()
            for connector in connectors.values():
                await connector.aclose()
            await authenticate.aclose()
            await store.aclose()
            await audit.aclose()
