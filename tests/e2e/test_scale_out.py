"""Scale-out over real processes: ``onedoor serve --workers 2`` with graceful
SIGTERM, and two gateways sharing one PostgreSQL audit chain."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from gateway.demo import demo_samples
from onedoor.model import Centre
from policy.personas import persona_claims
from sandbox.idp import mint_token
from sandbox.runner import Sandbox, run_sandbox
from services.audit import open_audit_store, verify_store

from .gateway_process import serving, write_config

pytestmark = pytest.mark.asyncio(loop_scope="module")

QUERY = "query Probe($id: String!) { citizen(idNumber: $id) { name matters(first: 5) { totalCount } } }"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sandbox(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Sandbox]:
    async with run_sandbox(None, tmp_path_factory.mktemp("scale")) as sb:
        yield sb


def _headers(sb: Sandbox, request_id: str | None = None) -> dict[str, str]:
    token = mint_token(sb.state_dir, {"iss": sb.idp_url, **persona_claims("caseworker")}, ttl=600)
    headers = {"Authorization": f"Bearer {token}"}
    if request_id:
        headers["X-Request-Id"] = request_id
    return headers


async def _probe(http: httpx.AsyncClient, sb: Sandbox, request_id: str | None = None) -> dict[str, Any]:
    citizen = demo_samples(sb.world, 1)[0]
    response = await http.post("/graphql", json={"query": QUERY, "variables": {"id": citizen}},
                               headers=_headers(sb, request_id))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body


async def test_two_workers_serve_aggregate_metrics_and_drain_on_sigterm(
        sandbox: Sandbox, tmp_path: Path) -> None:
    config = write_config(tmp_path / "onedoor.toml", sandbox, f"sqlite:///{tmp_path / 'audit.sqlite'}")
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus")}
    async with serving(config, workers=2, env=env) as (base, process):
        # A fresh connection per request lets the kernel spread them over both workers.
        async with httpx.AsyncClient(base_url=base, limits=httpx.Limits(max_keepalive_connections=0)
                                     ) as http:
            for _ in range(6):
                await _probe(http, sandbox)
            text = (await http.get("/metrics")).text
            line = next(x for x in text.splitlines()
                        if x.startswith('onedoor_graphql_operations_total{operation="Probe",outcome="ok"}'))
            assert float(line.rsplit(" ", 1)[1]) == 6  # summed over both workers' files
            assert len(list((tmp_path / "prometheus").glob("counter_*.db"))) >= 1

            # Graceful shutdown: a request in flight when SIGTERM arrives still completes.
            governance = sandbox.controls[Centre.GOVERNANCE]
            governance.update({"latencyMs": 1000})
            before = sum(governance.stats.values())
            try:
                in_flight = asyncio.create_task(_probe(http, sandbox))
                for _ in range(200):
                    if sum(governance.stats.values()) > before:
                        break
                    await asyncio.sleep(0.02)
                process.send_signal(signal.SIGTERM)
                body = await in_flight
            finally:
                governance.update({"latencyMs": 0})
        assert body["data"]["citizen"]["name"]
        assert await asyncio.to_thread(process.wait, 30) == 0


async def test_two_gateways_share_one_postgres_audit_chain(
        sandbox: Sandbox, tmp_path: Path, postgres_url: str) -> None:
    schema = f"t_scale_{uuid.uuid4().hex[:10]}"
    sep = "&" if "?" in postgres_url else "?"
    audit_url = f"{postgres_url}{sep}schema={schema}"
    config = write_config(tmp_path / "onedoor.toml", sandbox, audit_url)
    sent: dict[str, list[str]] = {"a": [], "b": []}
    try:
        async with serving(config) as (base_a, _), serving(config) as (base_b, _), \
                httpx.AsyncClient(base_url=base_a) as a, httpx.AsyncClient(base_url=base_b) as b:
            for i in range(4):
                for name, http in (("a", a), ("b", b)):
                    request_id = f"scale-{name}-{i:04d}-{uuid.uuid4().hex[:8]}"
                    sent[name].append(request_id)
                    await _probe(http, sandbox, request_id)
        result = await verify_store(audit_url)
        assert result.ok and result.checked >= 8, result
        store = await open_audit_store(audit_url, create=False)
        try:
            records, _ = await store.query(first=100)
        finally:
            await store.aclose()
        ids = [r.request_id for r in records]
        assert set(sent["a"]) <= set(ids) and set(sent["b"]) <= set(ids)
        assert [r.seq for r in records] == sorted(r.seq for r in records)
    finally:
        await _drop_schema(postgres_url, schema)


async def _drop_schema(postgres_url: str, schema: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(postgres_url)
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    finally:
        await conn.close()


async def test_serve_refuses_a_bad_config(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[logging]\nlevel = 'LOUD'\n")
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "gateway.cli", "serve", "--config", str(bad)],
        capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 2 and "logging.level" in done.stderr


async def test_two_gateways_share_one_redis_record_cache(
        sandbox: Sandbox, tmp_path: Path, redis_url: str) -> None:
    """A matter read through gateway A is served to gateway B from Redis: the
    centre sees one read for both replicas (and B still applies its own rules)."""
    from sandbox.client import get_stats, reset_stats
    from schema.ids import encode_id

    config = write_config(tmp_path / "onedoor.toml", sandbox, f"sqlite:///{tmp_path / 'audit.sqlite'}")
    prefix = f"onedoor-test-{uuid.uuid4().hex[:8]}:"
    config.write_text(config.read_text() + f'\n[centres.cache]\nredis_url = "{redis_url}"\n'
                      f'redis_key_prefix = "{prefix}"\nttl_seconds = 30\n')
    world = sandbox.world
    row = list(world.rows(Centre.MEDIATION))[-3]  # a matter no other test reads
    global_id = encode_id(Centre.MEDIATION, world.native_id(row))
    query = {"query": "query($id: ID!) { matter(id: $id) { reference } }", "variables": {"id": global_id}}
    url = sandbox.urls[Centre.MEDIATION]
    token = mint_token(sandbox.state_dir, {"iss": sandbox.idp_url, **persona_claims("auditor")}, ttl=600)
    headers = {"Authorization": f"Bearer {token}"}
    async with serving(config) as (base_a, _), serving(config) as (base_b, _), \
            httpx.AsyncClient(base_url=base_a) as a, httpx.AsyncClient(base_url=base_b) as b:
        await reset_stats(url)
        first = (await a.post("/graphql", json=query, headers=headers)).json()
        after_a = (await get_stats(url))["total"]
        second = (await b.post("/graphql", json=query, headers=headers)).json()
        after_b = (await get_stats(url))["total"]
    assert first["data"]["matter"]["reference"] == second["data"]["matter"]["reference"]
    assert after_a == 1  # A read it from the centre
    assert after_b == 1  # B found it in the shared Redis level
