"""`onedoor demo` wires the centres' webhooks itself: each centre with webhooks
knows the gateway's callback URL and shares a fresh secret with it, so a status
change made at a centre is a signed callback the gateway accepts (no URL POSTed
by hand)."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import quote

from connectors.settings import DEMO_API_KEY
from tests.e2e.demo_process import running_demo


def _call(url: str, body: dict[str, Any] | None = None,
          headers: dict[str, str] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={
        "Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def test_the_demo_registers_signed_webhooks_with_every_centre_that_has_them(tmp_path: Path) -> None:
    with running_demo(tmp_path / "state") as demo:
        port, centres, hooks = demo.port, demo.printed("centre"), demo.printed("webhook")
        assert set(hooks) == {"MEDIATION", "LITIGATION", "GOVERNANCE"}, demo.out
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
