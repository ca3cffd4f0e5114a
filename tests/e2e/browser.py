"""What the browser tests share: Debian's Chromium, its headless flags, and a
demo-mode gateway over the sandbox on a real loopback port."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import uvicorn

from connectors.registry import build_connectors
from gateway.app import create_app
from gateway.demo import demo_settings_for
from policy.auth import build_authenticator
from sandbox.runner import Sandbox, run_sandbox
from services.audit import open_audit_store

__all__ = ["ARTIFACTS", "BASE_FLAGS", "CHROMIUM", "need_chromium", "serving_demo"]

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
# As the machine's probe starts it: no background traffic into a closed network.
BASE_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync")


def need_chromium(what: str) -> None:
    """Skip (or, with ONEDOOR_REQUIRE_SERVICES=1, fail) without a browser."""
    if CHROMIUM.exists():
        return
    reason = f"no /usr/bin/chromium (make browser installs it) — {what} is not checked in a browser"
    if os.environ.get("ONEDOOR_REQUIRE_SERVICES") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the test process owns signals


@contextlib.asynccontextmanager
async def serving_demo(state_dir: Path, *, matters: int | None = None) -> AsyncIterator[tuple[str, Sandbox]]:
    """The sandbox and a demo-mode gateway (GraphiQL and the portal on) on real loopback ports."""
    async with run_sandbox(None, state_dir, matters=matters) as sb:
        settings = demo_settings_for(dict(sb.urls), sb.idp_url, state_dir, port=8000)
        audit = await open_audit_store(settings.audit.url)
        authenticate = build_authenticator(settings.auth)
        app = create_app(settings, build_connectors(settings.centres), authenticate, audit=audit)
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        server = _Server(uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False))
        task = asyncio.create_task(server.serve(sockets=[sock]))
        for _ in range(3000):  # bounded: up to ~60 s on a busy machine
            if server.started:
                break
            assert not task.done(), "gateway failed to start"
            await asyncio.sleep(0.02)
        try:
            yield f"http://127.0.0.1:{sock.getsockname()[1]}", sb
        finally:
            server.should_exit = True
            await task
            sock.close()
            await audit.aclose()
