"""The package as it ships: the wheel built from exactly what docker/Dockerfile
copies, installed with its runtime dependencies only into a clean virtual
environment (as the image's runtime stage installs it), runs ``onedoor demo``
and serves a ``matterUpdates`` subscription over graphql-transport-ws (and
GraphiQL with its assets, which are package data).

Test dependencies happen to bring a WebSocket library (httpx-ws → wsproto);
a wheel that relies on them works in ``make demo`` and refuses every WebSocket
upgrade in production. Slow (a wheel build and a pip install, about 30 s with
pip's cache): one test, every step bounded by a timeout.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import httpx
from httpx_ws import aconnect_ws

from benchmarks.processes import free_base_port

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "docker" / "Dockerfile"
MATTERS = """query M($id: String!) { citizen(idNumber: $id) { matters(first: 20) { nodes { id centre } } } }"""
SUBSCRIBE = "subscription U($id: ID!) { matterUpdates(id: $id) { id centre centreStatus } }"


def _build_context() -> list[str]:
    """What the Dockerfile's build stage copies into the image: ``COPY src… dest``."""
    build = DOCKERFILE.read_text().split(" AS runtime", 1)[0]
    copied: list[str] = []
    for line in build.splitlines():
        if line.startswith("COPY ") and "--from" not in line:
            copied.extend(line.split()[1:-1])
    return copied


def _run(*args: str | Path, timeout: float, cwd: Path | None = None,
         env: dict[str, str] | None = None) -> str:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout,
                          cwd=cwd, env=env, check=False)
    assert done.returncode == 0, f"{' '.join(map(str, args))}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def _clean_env(venv: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME") and not k.startswith("ONEDOOR_")}
    return {**env, "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", "PYTHONUNBUFFERED": "1"}


def _install(tmp: Path) -> Path:
    """Build the wheel from the Dockerfile's context and install it into a fresh venv."""
    src, wheels, venv = tmp / "src", tmp / "wheels", tmp / "venv"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "node_modules", "*.egg-info")
    for name in _build_context():
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=ignore)
        else:
            shutil.copy2(path, src / name)
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", wheels, src, timeout=300)
    (wheel,) = wheels.glob("onedoor-*.whl")
    _run(sys.executable, "-m", "venv", venv, timeout=120)
    python = venv / "bin" / "python"
    _run(python, "-m", "pip", "install", "--quiet", wheel, timeout=900, env=_clean_env(venv))
    # A clean environment: none of the dev extras that could mask a missing dependency.
    absent = _run(python, "-c", "import importlib.util as u; print([m for m in "
                  "('pytest', 'httpx_ws', 'hypothesis') if u.find_spec(m)])", timeout=60, cwd=tmp)
    assert absent.strip() == "[]", absent
    return venv


def _post(url: str, token: str, query: str, **variables: Any) -> dict[str, Any]:
    request = urllib.request.Request(
        url, data=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=20) as response:  # loopback, our own demo
        body: dict[str, Any] = json.load(response)
    return body


async def _first_update(base: str, token: str, matter_id: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}) as client, \
            aconnect_ws("/graphql", client, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send_json({"type": "connection_init"})
        assert (await ws.receive_json(timeout=20))["type"] == "connection_ack"
        await ws.send_json({"id": "1", "type": "subscribe",
                            "payload": {"query": SUBSCRIBE, "variables": {"id": matter_id}}})
        message: dict[str, Any] = await ws.receive_json(timeout=30)
        await ws.send_json({"id": "1", "type": "complete"})
        return message


def test_the_installed_wheel_serves_a_subscription(tmp_path: Path) -> None:
    venv = _install(tmp_path)
    port = free_base_port()
    demo = subprocess.Popen(
        [str(venv / "bin" / "onedoor"), "demo", "--port", str(port), "--state-dir", str(tmp_path / "state")],
        cwd=tmp_path, env=_clean_env(venv), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert demo.stdout is not None
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (lines and lines[-1].startswith("Ctrl-C stops")):
            line = demo.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip("\n"))
        out = "\n".join(lines)
        assert lines and lines[-1].startswith("Ctrl-C stops"), out
        token = next(ln.split(": ", 1)[1] for ln in lines if ln.startswith("token caseworker: "))
        citizen = next(ln.split(": ", 1)[1] for ln in lines if ln.startswith("sample citizen: "))
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):  # uvicorn binds just after the banner
            try:
                body = _post(f"{base}/graphql", token, MATTERS, id=citizen)
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise AssertionError("the installed gateway never answered")
        assert "errors" not in body, body
        matter = body["data"]["citizen"]["matters"]["nodes"][0]
        message = asyncio.run(_first_update(base, token, matter["id"]))
        assert message["type"] == "next", message
        update = message["payload"]["data"]["matterUpdates"]
        assert update["id"] == matter["id"] and update["centre"] == matter["centre"]
        # GraphiQL's assets are package data: the page and every file it names are served.
        page = urllib.request.urlopen(urllib.request.Request(  # loopback, our own demo
            f"{base}/graphql", headers={"Accept": "text/html"}), timeout=20).read().decode()
        assets = re.findall(r'(?:src|href)="(graphiql/static/[^"]+)"', page)
        assert len(assets) == 6, page[:1000]
        for asset in assets:
            with urllib.request.urlopen(f"{base}/{asset}", timeout=20) as response:
                assert response.status == 200 and response.read(), asset
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            demo.wait(timeout=30)
        except subprocess.TimeoutExpired:
            demo.kill()
            demo.wait(timeout=10)
        rest = demo.stdout.read()
        demo.stdout.close()
    log = "\n".join(lines) + rest
    assert not re.search(r"No supported WebSocket library", log), log
    assert demo.returncode == 0, log
