"""The projection in a running gateway: ``[projection]`` opens the store and starts the
feeder in the lifespan; ``/readyz`` shows each centre's watermark and ``/metrics`` the lag;
a signed callback reaches the feeder; ``statistics`` then reads the projection."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
import pytest

from connectors.registry import build_connectors
from gateway.app import create_app
from gateway.demo import demo_settings_for
from gateway.projection import feed_forever
from gateway.settings import ProjectionSettings
from onedoor.model import Centre
from policy.auth import build_authenticator
from policy.personas import persona_claims
from sandbox.idp import mint_token
from sandbox.runner import run_sandbox
from sandbox.writes import signature
from services.audit import open_audit_store

pytestmark = pytest.mark.asyncio
SECRET = "a-webhook-secret-of-some-length"


async def test_enabled_projection_feeds_answers_and_reports(tmp_path: Path) -> None:
    async with run_sandbox(None, tmp_path, matters=1500) as sb:
        settings = demo_settings_for(dict(sb.urls), sb.idp_url, tmp_path, port=8000,
                                     webhook_secrets={Centre.MEDIATION: SECRET})
        settings = settings.model_copy(update={"projection": ProjectionSettings(enabled=True, poll_seconds=0.1)})
        audit = await open_audit_store(f"sqlite:///{tmp_path / 'audit.sqlite'}")
        authenticate = build_authenticator(settings.auth)
        app = create_app(settings, build_connectors(settings.centres), authenticate, audit=audit)
        async with app.router.lifespan_context(app), \
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
            for _ in range(200):  # the initial load runs in the background
                ready = (await client.get("/readyz")).json()
                centres = ready["projection"]["centres"]
                if all(c["asOf"] for c in centres.values()):
                    break
                await asyncio.sleep(0.1)
            assert ready["projection"]["engine"] == "duckdb"
            assert {c: v["style"] for c, v in centres.items()}["PETITIONS"] == "EXPORT"
            assert centres["MEDIATION"]["rows"] == sb.world.count(Centre.MEDIATION)
            assert (tmp_path / "projection.duckdb").exists() and (tmp_path / "projection.key").exists()
            await asyncio.sleep(0.3)  # the gauge is refreshed every poll
            metrics = (await client.get("/metrics")).text
            assert 'onedoor_projection_lag_seconds{centre="LEGAL_SERVICES"}' in metrics
            # A signed callback is handed to the feeder, which re-reads the record.
            native_id = next(sb.world.native_id(r) for r in sb.world.rows(Centre.MEDIATION)
                             if sb.world.matter(r).closed is None)
            async with httpx.AsyncClient() as direct:
                await direct.post(f"{sb.urls[Centre.MEDIATION]}/_sandbox/matters/{native_id}/status",
                                  json={"status": "AJSL"})
            body = json.dumps({"event": "case.status_changed", "caseNo": native_id, "statusCode": "AJSL",
                               "time": "2026-01-01 00:00:00"}).encode()
            sent = await client.post("/webhooks/mediation", content=body, headers={
                "Content-Type": "application/json",
                "X-OneDoor-Signature": signature(SECRET, body, int(time.time()))})
            assert sent.status_code == 202
            store = app.state.projection.store
            for _ in range(100):
                row = (await store.rows([(Centre.MEDIATION, native_id)]))[(Centre.MEDIATION, native_id)]
                if row.closed_at is not None:
                    break
                await asyncio.sleep(0.05)
            assert row.closed_at is not None
            token = mint_token(sb.state_dir, {"iss": sb.idp_url, **persona_claims("analyst")}, ttl=600)
            stats = (await client.post("/graphql", headers={"Authorization": f"Bearer {token}"}, json={
                "query": '{ statistics(regionCode: "630000", from: "2020-01-01", to: "2030-01-01") '
                         "{ sources { source } freshness { centre asOf feed } missingCentres } }"})).json()
            assert {s["source"] for s in stats["data"]["statistics"]["sources"]} == {"PROJECTION"}
            assert len(stats["data"]["statistics"]["freshness"]) == 5
        await authenticate.aclose()
        await audit.aclose()


async def test_a_feeding_process_of_its_own_and_serving_gateways_that_only_read(tmp_path: Path) -> None:
    async with run_sandbox(None, tmp_path, matters=1200) as sb:
        shared = f"sqlite:///{tmp_path / 'shared.sqlite'}"
        settings = demo_settings_for(dict(sb.urls), sb.idp_url, tmp_path, port=8000)
        feeding = settings.model_copy(update={"projection": ProjectionSettings(url=shared, poll_seconds=0.1)})
        stop = asyncio.Event()
        feeder = asyncio.create_task(feed_forever(feeding, stop))
        serving = settings.model_copy(update={"projection": ProjectionSettings(enabled=True, url=shared, feed=False)})
        audit = await open_audit_store(f"sqlite:///{tmp_path / 'audit.sqlite'}")
        authenticate = build_authenticator(settings.auth)
        app = create_app(serving, build_connectors(serving.centres), authenticate, audit=audit)
        token = mint_token(sb.state_dir, {"iss": sb.idp_url, **persona_claims("analyst")}, ttl=600)
        query = '{ statistics(regionCode: "630000", from: "2020-01-01", to: "2030-01-01") { missingCentres } }'
        async with app.router.lifespan_context(app), \
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
            for _ in range(300):
                body = (await client.post("/graphql", json={"query": query},
                                          headers={"Authorization": f"Bearer {token}"})).json()
                if body["data"]["statistics"]["missingCentres"] == []:
                    break
                await asyncio.sleep(0.1)
            assert body["data"]["statistics"]["missingCentres"] == []
            ready = (await client.get("/readyz")).json()
            assert ready["projection"] == {"engine": "sqlite", "centres": None}  # reads, does not feed
        stop.set()
        await feeder
        await authenticate.aclose()
        await audit.aclose()


async def test_the_feeding_process_runs_at_a_lower_cpu_priority(tmp_path: Path) -> None:
    """`python -m gateway.projection` is background work: it lowers its own priority (nice)
    so the kernel runs serving gateways on the same host first, and stops on SIGTERM."""
    import os
    import signal
    import sys

    from tests.gateway.harness import CENTRES_TOML

    config = tmp_path / "onedoor.toml"
    config.write_text(f'state_dir = "{tmp_path}"\n[projection]\nurl = "sqlite:///{tmp_path / "p.sqlite"}"\n'
                      f"poll_seconds = 60\n{CENTRES_TOML}")
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway.projection", "--config", str(config), "--nice", "7",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    try:
        for _ in range(200):  # the interpreter starts, then lowers its priority
            if os.getpriority(os.PRIO_PROCESS, process.pid) != mine:
                break
            await asyncio.sleep(0.05)
        assert os.getpriority(os.PRIO_PROCESS, process.pid) == min(mine + 7, 19)
        await asyncio.sleep(0.5)
        assert process.returncode is None  # feeding, not failed
    finally:
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 30)
    assert code == 0
