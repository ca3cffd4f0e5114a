"""Start the identity provider and the five centres on loopback, in this event loop.

Each app gets its own uvicorn server on a socket we bind first, so the URLs are
known before anything serves (the IdP's issuer URL is baked into its tokens).
uvicorn's signal capture is disabled: the caller owns Ctrl-C.

>>> async with run_sandbox(None, tmp_path) as sb:
...     httpx.get(sb.urls[Centre.MEDIATION] + "/api/cases", headers=...)
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import secrets
import signal
import socket
from collections.abc import AsyncIterator, Collection, Generator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

from onedoor.model import Centre
from sandbox import feeds, governance, idp, legal, litigation, mediation, petitions
from sandbox.client import get_stats, set_fault
from sandbox.control import Control, SandboxMiddleware
from sandbox.world import World
from sandbox.writes import WEBHOOK_CENTRES, WriteStore

__all__ = ["SERVERS", "Sandbox", "get_stats", "run_sandbox", "serve_forever", "set_fault"]

HOST = "127.0.0.1"


@dataclass
class Sandbox:
    urls: dict[Centre, str]
    idp_url: str
    world: World
    state_dir: Path
    controls: dict[Centre, Control] = field(default_factory=dict)
    writes: WriteStore | None = None  # records created through the centres' write APIs
    # what each centre with webhooks signs its callbacks with (the gateway needs the same)
    webhook_secrets: dict[Centre, str] = field(default_factory=dict)


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # several servers share one process: signals are handled by our caller


def _bind(port: int, host: str = HOST) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit this: without it a keep-alive response written as
    # headers then body waits ~40 ms for the client's delayed ACK (Nagle).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    sock.setblocking(False)
    return sock


IDP = "IDP"
SERVERS = (IDP, *(c.value for c in Centre))  # in port order: base+100 … base+105


def _app(name: str, world: World, state_dir: Path, idp_url: str,
         controls: dict[Centre, Control], writes: WriteStore, rate_limit: float) -> ASGIApp:
    if name == IDP:
        return idp.create_app(state_dir, idp_url)
    centre = Centre(name)
    raw: ASGIApp
    if centre is Centre.LEGAL_SERVICES:
        raw = legal.create_app(world, keys=idp.public_key_set(state_dir), issuer=idp_url,
                               writes=writes)
    elif centre is Centre.LITIGATION:
        bucket = litigation.TokenBucket(rate_limit, burst=max(1, int(rate_limit)))
        raw = litigation.create_app(world, bucket=bucket, writes=writes)
    else:
        raw = _MODULES[centre].create_app(world, writes=writes)
    raw, more = feeds.mount(centre, raw, _MODULES[centre].control(world, writes), world, writes, state_dir,
                            keys=idp.public_key_set(state_dir) if centre is Centre.LEGAL_SERVICES else None,
                            issuer=idp_url)
    return SandboxMiddleware(raw, controls[centre], more=more)


_MODULES = dict(zip(Centre, (mediation, legal, petitions, litigation, governance), strict=True))


@contextlib.asynccontextmanager
async def run_sandbox(base_port: int | None, state_dir: Path, *, seed: int = 7,
                      matters: int | None = None, latency_ms: int = 0, jitter_ms: int = 0,
                      now: dt.datetime | None = None, host: str = HOST,
                      public_host: str | None = None,
                      only: Collection[str] | None = None,
                      rate_limit: float = 50.0,
                      webhook_secrets: Mapping[Centre, str] | None = None,
                      ) -> AsyncIterator[Sandbox]:
    """Serve the IdP on ``base_port+100`` and the centres on ``+101…+105``
    (``None``: free ephemeral ports); stop them all on exit. ``host`` is the bind
    address (``0.0.0.0`` in a container); ``public_host`` the name others reach
    it by, which the IdP bakes into its tokens as the issuer. ``only`` serves a
    subset of :data:`SERVERS` (needs ``base_port``): one process per centre, as
    real centres are separate systems, each with the whole world and its own
    write overlay. ``rate_limit``: LITIGATION's requests per second (its token
    bucket; 429 with ``Retry-After`` beyond). ``webhook_secrets``: what MEDIATION,
    LITIGATION and GOVERNANCE sign their callbacks with; a centre not given one
    makes a random one (``Sandbox.webhook_secrets`` holds them all)."""
    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    names = list(SERVERS) if only is None else [n for n in SERVERS if n in set(only)]
    if only is not None and (base_port is None or not names or set(only) - set(SERVERS)):
        raise ValueError(f"only: a base port and names from {', '.join(SERVERS)}")
    world = World(seed, matters=matters, now=now)
    sockets: dict[str, socket.socket] = {}
    try:
        for i, served in enumerate(SERVERS):
            if served in names:
                sockets[served] = _bind(0 if base_port is None else base_port + 100 + i, host)
    except OSError:
        for sock in sockets.values():
            sock.close()
        raise
    name = public_host or (HOST if host in ("0.0.0.0", "::") else host)  # noqa: S104
    ports = [sockets[s].getsockname()[1] if base_port is None else base_port + 100 + i
             for i, s in enumerate(SERVERS)]
    urls = [f"http://{name}:{port}" for port in ports]
    controls = {c: Control(c.value, latency_ms=latency_ms, jitter_ms=jitter_ms) for c in Centre}
    given = webhook_secrets or {}
    signing = {c: given.get(c) or secrets.token_hex(32) for c in Centre if c in WEBHOOK_CENTRES}
    writes = WriteStore(world, webhook_secrets=signing)
    servers = [
        _Server(uvicorn.Config(_app(n, world, state_dir, urls[0], controls, writes, rate_limit),
                               log_level="warning", lifespan="off", http="h11",
                               access_log=False, timeout_graceful_shutdown=2))
        for n in names
    ]
    tasks = [asyncio.create_task(s.serve(sockets=[sockets[n]]))
             for s, n in zip(servers, names, strict=True)]
    try:
        while not all(s.started for s in servers):
            if failed := [t for t in tasks if t.done()]:
                await failed[0]  # re-raise the start-up failure
                raise RuntimeError("a sandbox server stopped during start-up")
            await asyncio.sleep(0.01)
        yield Sandbox(urls=dict(zip(Centre, urls[1:], strict=True)), idp_url=urls[0],
                      world=world, state_dir=state_dir, controls=controls, writes=writes,
                      webhook_secrets=signing)
    finally:
        for server in servers:
            server.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)
        for sock in sockets.values():
            sock.close()


def serve_forever(base_port: int, state_dir: Path, *, seed: int = 7,
                  matters: int | None = None, latency_ms: int = 0, jitter_ms: int = 0,
                  host: str = HOST, public_host: str | None = None,
                  only: Collection[str] | None = None, rate_limit: float = 50.0,
                  webhook_secrets: Mapping[Centre, str] | None = None,
                  callbacks: str | None = None) -> None:
    """Blocking: run the sandbox until SIGINT/SIGTERM (``onedoor sandbox``).

    ``callbacks``: a gateway's base URL; ``{callbacks}/webhooks/<centre>`` is
    registered with every served centre that calls back, as ``onedoor demo`` does.

    Each centre's webhook secret comes from ``webhook_secrets``, else from the
    environment (``ONEDOOR_SANDBOX__MEDIATION__WEBHOOK_SECRET``, … — never argv,
    which ``ps`` shows), else is made up and printed for the gateway's
    ``webhook_secret`` (as ``stripe listen`` prints its signing secret)."""
    configured = {c: v for c in WEBHOOK_CENTRES
                  if (v := os.environ.get(f"ONEDOOR_SANDBOX__{c.value}__WEBHOOK_SECRET"))}
    configured.update(webhook_secrets or {})

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with run_sandbox(base_port, state_dir, seed=seed, matters=matters,
                               latency_ms=latency_ms, jitter_ms=jitter_ms, host=host,
                               public_host=public_host, only=only,
                               rate_limit=rate_limit, webhook_secrets=configured) as sb:
            served = set(only or SERVERS)
            if IDP in served:
                print(f"identity provider  {sb.idp_url}", flush=True)
            for centre, url in sb.urls.items():
                if centre.value in served:
                    print(f"{centre.value:<18} {url}", flush=True)
            for centre, secret in sb.webhook_secrets.items():
                if centre.value in served and centre not in configured:
                    print(f"{centre.value:<18} webhook secret (made up): {secret}", flush=True)
            if callbacks and sb.writes is not None:
                for centre in WEBHOOK_CENTRES:
                    if centre.value in served:
                        sb.writes.hooks[centre].append(f"{callbacks.rstrip('/')}/webhooks/{centre.value.lower()}")
            await stop.wait()

    asyncio.run(main())
