"""OneDoor as the third-party clients meet it: ``onedoor demo`` as a real
process on free loopback ports (identity provider, five sandbox centres, the
gateway), read from what it prints, and ``onedoor serve`` in Federation
subgraph mode against the same centres."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from benchmarks.processes import free_base_port
from policy.personas import persona_claims
from sandbox.idp import mint_token
from tests.e2e.gateway_process import free_port

__all__ = ["Demo", "start_demo", "start_subgraph"]

_BANNER_END = "Ctrl-C stops everything"


@dataclass
class Demo:
    url: str  # the gateway, e.g. http://127.0.0.1:PORT (GraphQL at /graphql)
    state_dir: Path
    issuer: str
    centres: dict[str, str]  # MEDIATION → http://127.0.0.1:…
    samples: list[str]  # sample citizens, the first in the caseworker's jurisdiction
    tokens: dict[str, str] = field(default_factory=dict)  # persona → the token printed

    def token(self, persona: str, **overrides: Any) -> str:
        """A token as ``onedoor token --persona … [--scopes …]`` issues it."""
        claims = persona_claims(persona, **overrides)
        return mint_token(self.state_dir, {"iss": self.issuer, **claims}, ttl=900)


def _printed(lines: list[str], prefix: str) -> list[str]:
    return [ln.split(": ", 1)[1] for ln in lines if ln.startswith(prefix)]


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited:\n{log.read_text(errors='replace')[-4000:]}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready in {seconds} s:\n{log.read_text(errors='replace')[-4000:]}")


def _stop(process: subprocess.Popen[bytes], sig: int) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def start_demo(state_dir: Path) -> Iterator[Demo]:
    """``onedoor demo --port P --state-dir …``; stopped with Ctrl-C (SIGINT)."""
    port = free_base_port()
    log = state_dir.parent / f"demo-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", "demo", "--port", str(port),
             "--state-dir", str(state_dir)],
            stdout=out, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + 180
        while _BANNER_END not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"demo did not start:\n{log.read_text(errors='replace')[-4000:]}")
            time.sleep(0.2)
        lines = log.read_text(errors="replace").splitlines()
        url = f"http://127.0.0.1:{port}"
        _wait_ready(url, process, log, 60)
        yield Demo(
            url=url, state_dir=state_dir, issuer=_printed(lines, "identity provider: ")[0],
            centres=dict(c.split(": ", 1) for c in
                         (ln.removeprefix("centre ") for ln in lines if ln.startswith("centre "))),
            samples=_printed(lines, "sample citizen: "),
            tokens=dict(t.split(": ", 1) for t in
                        (ln.removeprefix("token ") for ln in lines if ln.startswith("token "))),
        )
    finally:
        _stop(process, signal.SIGINT)


def _subgraph_config(demo: Demo, folder: Path) -> Path:
    centres = "".join(
        f'[centres.{name.lower()}]\nbase_url = "{url}"\n'
        + (f'token_url = "{demo.issuer}/oauth/token"\n' if name == "LEGAL_SERVICES" else "")
        for name, url in demo.centres.items())
    config = folder / "subgraph.toml"
    config.write_text(f"""
mode = "production"
host = "127.0.0.1"
subgraph = true
state_dir = "{folder / 'state'}"
[auth]
reject_anonymous = true
[[auth.issuers]]
issuer = "{demo.issuer}"
jwks_url = "{demo.issuer}/.well-known/jwks.json"
audiences = ["onedoor"]
[audit]
url = "sqlite:///{folder / 'audit.sqlite'}"
{centres}""")
    return config


@contextlib.contextmanager
def start_subgraph(demo: Demo, folder: Path) -> Iterator[str]:
    """``onedoor serve`` with ``subgraph = true`` against the demo's centres and
    identity provider (anonymous callers refused); yields its base URL."""
    folder.mkdir(parents=True, exist_ok=True)
    config, port = _subgraph_config(demo, folder), free_port()
    log = folder / "subgraph.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", "serve", "--config", str(config),
             "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process, log, 60)
        yield url
    finally:
        _stop(process, signal.SIGTERM)
