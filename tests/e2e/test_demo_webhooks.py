"""`onedoor demo` wires the centres' webhooks itself: each centre with webhooks
knows the gateway's callback URL and shares a fresh secret with it, so a status
change made at a centre is a signed callback the gateway accepts (no URL POSTed
by hand)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import quote

from benchmarks.processes import free_base_port
from connectors.settings import DEMO_API_KEY


def _call(url: str, body: dict[str, Any] | None = None,
          headers: dict[str, str] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={
        "Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def test_the_demo_registers_signed_webhooks_with_every_centre_that_has_them(tmp_path: Path) -> None:
    port = free_base_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "demo", "--port", str(port), "--state-dir",
         str(tmp_path / "state")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip("\n"))
            if line.startswith("Ctrl-C stops everything"):
                break
        out = "\n".join(lines)
        centres = {ln.split()[1].rstrip(":"): ln.split()[2] for ln in lines if ln.startswith("centre ")}
        hooks = {ln.split()[1].rstrip(":"): ln.split()[2] for ln in lines if ln.startswith("webhook ")}
        assert set(hooks) == {"MEDIATION", "LITIGATION", "GOVERNANCE"}, out
        for centre, callback in hooks.items():
            assert callback == f"http://127.0.0.1:{port}/webhooks/{centre.lower()}"
            assert _call(f"{centres[centre]}/_sandbox/webhooks")["urls"] == [callback]
        mediation = centres["MEDIATION"]
        case = _call(f"{mediation}/api/cases?page=1&pageSize=1",
                     headers={"X-Api-Key": DEMO_API_KEY})["items"][0]
        for _ in range(50):  # uvicorn binds just after the banner
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).close()
                break
            except OSError:
                time.sleep(0.2)
        changed = _call(f"{mediation}/_sandbox/matters/{quote(case['caseNo'], safe='')}/status",
                        {"status": "XXTJ"})
        assert changed["delivered"] == 1  # the gateway answered 2xx: the signature verified
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        process.stdout.close()
    assert code == 0
