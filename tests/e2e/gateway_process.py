"""``onedoor serve`` as a real child process on a free loopback port, against a
running sandbox: what scale-out and shutdown tests drive."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from gateway.demo import centres_toml
from sandbox.runner import Sandbox


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def write_config(path: Path, sb: Sandbox, audit_url: str) -> Path:
    path.write_text(f"""
mode = "production"
host = "127.0.0.1"
state_dir = "{path.parent / 'state'}"
[auth]
reject_anonymous = true
[[auth.issuers]]
issuer = "{sb.idp_url}"
jwks_url = "{sb.idp_url}/.well-known/jwks.json"
audiences = ["onedoor"]
[audit]
url = "{audit_url}"
[logging]
level = "INFO"
{centres_toml(sb.urls, sb.idp_url)}""")
    return path


@contextlib.asynccontextmanager
async def serving(config: Path, *, workers: int = 1, env: dict[str, str] | None = None,
                  admin_port: int | None = None, port: int | None = None,
                  ) -> AsyncIterator[tuple[str, subprocess.Popen[bytes]]]:
    """Start, wait for ``/readyz`` (bounded; on the admin listener when the config
    names one), yield (base URL, process); SIGTERM on exit."""
    port = port or free_port()
    log = (config.parent / f"gateway-{port}.log").open("wb")
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    child_env.update(env or {})
    process = subprocess.Popen(  # noqa: ASYNC220 - a long-lived child, waited on below
        [sys.executable, "-m", "gateway.cli", "serve", "--config", str(config),
         "--workers", str(workers), "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, env=child_env)
    base = f"http://127.0.0.1:{port}"
    try:
        ready_base = f"http://127.0.0.1:{admin_port}" if admin_port else base
        async with httpx.AsyncClient(base_url=ready_base) as http:
            for _ in range(400):  # start-up imports and the audit store: up to ~40 s
                if process.poll() is not None:
                    raise RuntimeError(f"gateway exited: {(config.parent / log.name).read_text()}")
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get("/readyz")).status_code == 200:
                        break
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError("gateway did not become ready")
        yield base, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(process.wait, 30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()
