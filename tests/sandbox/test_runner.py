"""Serving a subset of the sandbox (one process per centre, ``--only``)."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from benchmarks.processes import free_base_port
from onedoor.model import Centre
from sandbox.runner import run_sandbox


async def test_only_serves_the_named_centre_at_its_usual_port(tmp_path: Path) -> None:
    base = free_base_port()
    async with run_sandbox(base, tmp_path, matters=500, only=["MEDIATION"]) as sb:
        assert sb.urls[Centre.MEDIATION] == f"http://127.0.0.1:{base + 101}"
        assert sb.idp_url == f"http://127.0.0.1:{base + 100}"  # the issuer others serve
        async with httpx.AsyncClient() as http:
            answer = await http.get(sb.urls[Centre.MEDIATION] + "/api/cases",
                                    params={"pageSize": 1},
                                    headers={"X-Api-Key": "mediation-demo-key"})
        assert answer.status_code == 200 and answer.json()["total"] > 0
        for offset in (100, 102, 105):  # nothing else is bound here
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", base + offset))


async def test_only_needs_a_base_port_and_known_names(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="base port"):
        async with run_sandbox(None, tmp_path, only=["MEDIATION"]):
            pass
    with pytest.raises(ValueError, match="IDP"):
        async with run_sandbox(free_base_port(), tmp_path, only=["NOPE"]):
            pass
