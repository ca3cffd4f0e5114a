"""Security point 7: no resident ID, phone or name in any log line of `onedoor serve`,
after GET and POST queries that carry them in the query string and variables."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from gateway.demo import demo_samples
from sandbox.runner import Sandbox
from tests.e2e.gateway_process import serving, write_config
from tests.e2e.test_scale_out import _headers, sandbox

__all__ = ["sandbox"]  # the module-scoped sandbox fixture, shared with the scale-out tests

pytestmark = pytest.mark.asyncio(loop_scope="module")

QUERY = "query Who($id: String!) { citizen(idNumber: $id) { name phone matters(first: 3) { totalCount } } }"


async def test_serve_logs_carry_no_personal_data(sandbox: Sandbox, tmp_path: Path) -> None:
    config = write_config(tmp_path / "onedoor.toml", sandbox, f"sqlite:///{tmp_path / 'audit.sqlite'}")
    citizen = demo_samples(sandbox.world, 1)[0]
    async with serving(config) as (base, _):
        async with httpx.AsyncClient(base_url=base) as http:
            posted = await http.post("/graphql", json={"query": QUERY, "variables": {"id": citizen}},
                                     headers=_headers(sandbox))
            person = posted.json()["data"]["citizen"]
            got = await http.get("/graphql", params={"query": QUERY, "variables": json.dumps({"id": citizen})},
                                 headers={**_headers(sandbox), "Accept": "application/json"})
            assert got.json()["data"]["citizen"]["name"] == person["name"]
            inline = QUERY.replace("$id", f'"{citizen}"').replace("($id: String!)", "")
            await http.get("/graphql", params={"query": inline}, headers=_headers(sandbox))
        port = base.rsplit(":", 1)[1]
    log = (config.parent / f"gateway-{port}.log").read_text(encoding="utf-8")
    assert "http.request" in log  # the access line is there, without the query string
    secrets = [citizen, person["name"], *([person["phone"]] if person["phone"] else [])]
    for line in log.splitlines():
        for secret in secrets:
            assert secret not in line, f"personal data in a log line: {line[:120]}"
