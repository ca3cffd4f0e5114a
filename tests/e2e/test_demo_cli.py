"""`onedoor demo` as a newcomer runs it: a real process, real ports, Ctrl-C."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

from gateway.demo import EXAMPLE_QUERY
from tests.e2e.demo_process import running_demo


def test_demo_starts_answers_with_printed_token_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    with running_demo(tmp_path / "state") as demo:
        port, lines, out = demo.port, demo.lines, demo.out
        assert f"http://127.0.0.1:{port}/graphql" in out, out
        samples = [ln.split(": ", 1)[1] for ln in lines if ln.startswith("sample citizen: ")]
        assert len(samples) == 3 and all(len(s) == 18 for s in samples)
        token = next(ln.split(": ", 1)[1] for ln in lines if ln.startswith("token caseworker: "))
        for _ in range(50):  # uvicorn binds just after the banner
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/graphql",
                    data=json.dumps({"query": EXAMPLE_QUERY, "variables": {"id": samples[0]}}).encode(),
                    headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                )
                body = json.load(urllib.request.urlopen(request, timeout=10))
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise AssertionError("gateway never answered")
        assert "errors" not in body, body
        nodes = body["data"]["citizen"]["matters"]["nodes"]
        assert {n["centre"] for n in nodes} == {
            "MEDIATION", "LEGAL_SERVICES", "PETITIONS", "LITIGATION", "GOVERNANCE"}
        assert any(n["links"] for n in nodes)
