"""Security point 6: no existence oracle outside jurisdiction through the gateway's
own counters — ``Query.centres`` shows them to operators only, and ``/metrics``
and ``/readyz`` can live on a separate (loopback) admin listener."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from policy.principal import Principal
from sandbox.runner import Sandbox
from tests.e2e.gateway_process import free_port, serving, write_config
from tests.e2e.test_scale_out import _headers, sandbox
from tests.gateway.harness import client
from tests.schema.test_query import READ_ALL, _centres

__all__ = ["sandbox"]

pytestmark = pytest.mark.asyncio(loop_scope="module")

HEALTH = "{ centres { centre status requests failures lastErrorCode lastLatencyMs } }"
CASEWORKER = Principal(sub="u", client_id="c", scopes=READ_ALL, regions=("6323",), authenticated=True)
OPERATOR = Principal(sub="ops", client_id="c", scopes=frozenset({"ops:read"}), regions=(),
                     authenticated=True)


async def test_centre_counters_are_for_operators_only() -> None:
    async with client(_centres(), {"cw": CASEWORKER, "ops": OPERATOR}) as http:
        seen = await http.post("/graphql", json={"query": HEALTH}, headers={"Authorization": "Bearer cw"})
        ops = await http.post("/graphql", json={"query": HEALTH}, headers={"Authorization": "Bearer ops"})
    body = seen.json()
    assert all(c["requests"] is None and c["failures"] is None for c in body["data"]["centres"])
    assert {e["extensions"]["code"] for e in body["errors"]} == {"UNAUTHORIZED_FIELD_OR_TYPE"}
    assert all(c["status"] == "UP" for c in body["data"]["centres"])  # up/down stays public
    assert "errors" not in ops.json()
    assert all(isinstance(c["requests"], int) for c in ops.json()["data"]["centres"])


async def test_metrics_and_readiness_answer_only_on_the_admin_listener(
        sandbox: Sandbox, tmp_path: Path) -> None:
    config = write_config(tmp_path / "onedoor.toml", sandbox, f"sqlite:///{tmp_path / 'audit.sqlite'}")
    admin = free_port()
    config.write_text(config.read_text().replace('mode = "production"',
                                                 f'mode = "production"\nadmin_port = {admin}', 1))
    async with serving(config, admin_port=admin) as (base, _), httpx.AsyncClient() as http:
        for path in ("/metrics", "/readyz"):
            assert (await http.get(base + path)).status_code == 404
            assert (await http.get(f"http://127.0.0.1:{admin}{path}")).status_code == 200
        query = {"query": '{ region(code: "632300") { name } }'}
        assert (await http.post(f"{base}/graphql", json=query, headers=_headers(sandbox))).status_code == 200
        refused = await http.post(f"http://127.0.0.1:{admin}/graphql", json=query, headers=_headers(sandbox))
        assert refused.status_code == 404  # the admin listener serves nothing else
