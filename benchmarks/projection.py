"""The analytic projection at scale (issue 13): initial load, the dispatcher's queries,
incremental lag.

The five sandbox centres run as separate processes with ``--matters N``; this
process is the feeder (its peak RSS is the load's). Per engine it reports the
initial load (time, rows, peak RSS, size on disk), ``statistics(630000, a year,
groupBy [CENTRE, MONTH])`` and ``overdue(630000)`` through the GraphQL app over
the projection (p50/p95), and the lag of a steady stream of changes (pushed
and polled). With ``--live`` the same two queries are timed once on the live
path for comparison. Timings are reported, never asserted: the machine is shared.

    python -m benchmarks.projection --matters 100000 [--engine sqlite --engine postgresql] [--live]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from connectors.registry import aclose_all, build_connectors, build_feeds
from gateway.app import create_app
from gateway.demo import demo_settings_for
from gateway.projection import ProjectionHolder, feed_policy
from gateway.settings import GatewaySettings, ProjectionSettings
from onedoor.model import CST, Centre
from policy.auth import build_authenticator
from policy.personas import persona_claims
from sandbox.idp import mint_token
from sandbox.world import World
from schema.projected import STORED, row_mapper
from services.audit import open_audit_store
from services.projection import Feeder, FeedSettings, ProjectionStore, open_projection_store

from .processes import free_base_port, sandbox

RESULTS = Path(__file__).parent / "results"
POSTGRES = os.environ.get("ONEDOOR_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")

STATS = """query S($from: Date!, $to: Date!) { statistics(regionCode: "630000", from: $from, to: $to,
  groupBy: [CENTRE, MONTH]) { totals { registered closed closedOnTime } groups { centre month figures { registered } }
  missingCentres freshness { centre asOf } } }"""
# records a second a reconciliation reads per centre (``--resync-rate``; 0 = unpaced)
RESYNC_RATE: float | None = ProjectionSettings().resync_rate
OVERDUE = """query O { overdue(regionCode: "630000") { id centre deadlineKind daysOverdue } }"""
# Two open statuses per centre: a change moves a record from one to the other.
MOVES = {Centre.MEDIATION: ("XXTJ", "FXYP"), Centre.LEGAL_SERVICES: ("under_review", "approved"),
         Centre.LITIGATION: ("TRIAL", "ACCEPTED"), Centre.GOVERNANCE: ("HANDLING", "DISPATCHED")}


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 1)


async def _size_mb(store: ProjectionStore, url: str) -> float:
    if not url.startswith("postgresql://"):
        path = Path(url.split(":///", 1)[1])
        return round(sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 2**20, 1)
    pool: Any = getattr(store, "_pool")  # noqa: B009 - measuring, not using
    async with pool.acquire() as conn:
        size = await conn.fetchval("SELECT pg_total_relation_size('matter')")
    return round(int(size) / 2**20, 1)


async def _timed(client: httpx.AsyncClient, query: str, token: str, variables: dict[str, Any],
                 runs: int) -> tuple[list[float], dict[str, Any]]:
    times, body = [], {}
    for _ in range(runs):
        started = time.perf_counter()
        response = await client.post("/graphql", json={"query": query, "variables": variables},
                                     headers={"Authorization": f"Bearer {token}"}, timeout=600)
        times.append((time.perf_counter() - started) * 1000)
        body = response.json()
    return times, body


async def _lag(sb_urls: dict[Centre, str], world: World, feeder: Feeder, store: ProjectionStore, count: int,
               per_second: float, skip: int = 0) -> dict[str, dict[str, float]]:
    """Move ``count`` open records (spread over four centres, one per ``1/per_second``); a pushed
    change is told to the feeder as its signed callback would be; measure until each row changes."""
    picks: list[tuple[Centre, str, str]] = []
    for centre, (first, second) in MOVES.items():
        opened = (world.matter(r) for r in world.rows(centre))
        chosen = [m for m in opened if m.closed is None][skip: skip + count // len(MOVES)]  # unmoved ones
        picks += [(centre, m.native_id, second if m.status == first else first) for m in chosen]
    before = {k: r.fingerprint() for k, r in (await store.rows([(c, n) for c, n, _ in picks])).items()}
    lags: dict[Centre, list[float]] = {}
    pending: dict[tuple[Centre, str], float] = {}  # moved, not yet seen → when moved
    issued = asyncio.Event()

    async def watch() -> None:  # concurrently with the moves: a lag is measured as it happens
        while pending or not issued.is_set():
            keys = list(pending)
            rows = await store.rows(keys) if keys else {}
            now = time.perf_counter()
            for key in keys:
                row = rows.get(key)
                if row is not None and row.fingerprint() != before.get(key):
                    lags.setdefault(key[0], []).append((now - pending.pop(key)) * 1000)
            await asyncio.sleep(0.02)

    watcher = asyncio.create_task(watch())
    async with httpx.AsyncClient(timeout=30) as client:
        for centre, native_id, status in picks:
            started = time.perf_counter()
            response = await client.post(f"{sb_urls[centre]}/_sandbox/matters/{native_id}/status",
                                         json={"status": status})
            if response.status_code == 200:
                feeder.notify(centre, native_id)  # what the centre's signed callback does in the gateway
                pending[(centre, native_id)] = started
            await asyncio.sleep(1 / per_second)
    issued.set()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(watcher, 120)
    out = {c.value: {"n": len(v), "p50_ms": _pct(v, 0.5), "p99_ms": _pct(v, 0.99)} for c, v in lags.items()}
    out["unseen"] = {"n": len(pending), "p50_ms": 0.0, "p99_ms": 0.0}
    return out


# The rows of issue 13's table, as the issue measured them on the live path (analyst token;
# then a caseworker's list, which the analyst's queries must not have broken).
ISSUE_TABLE = {
    "statistics(632300, a year)": ('''query T($from: Date!, $to: Date!) { statistics(regionCode: "632300", from: $from,
        to: $to) { totals { registered } missingCentres } }''', "statistics"),
    "statistics(632300, a year, pushDown: false)": ('''query T($from: Date!, $to: Date!) {
        statistics(regionCode: "632300", from: $from, to: $to, pushDown: false) { totals { registered }
        missingCentres } }''', "statistics"),
    "statistics(630000, a year)": ('''query T($from: Date!, $to: Date!) { statistics(regionCode: "630000",
        from: $from, to: $to) { totals { registered } missingCentres } }''', "statistics"),
    "overdue(630000)": ("query T { overdue(regionCode: \"630000\") { id } }", "overdue"),
}


async def _issue_table(client: httpx.AsyncClient, analyst: str, clerk: str, span: dict[str, str],
                       runs: int) -> dict[str, Any]:
    """Issue 13's table re-measured: p50, whether the answer is complete, the error codes."""
    out: dict[str, Any] = {}
    for label, (query, field) in ISSUE_TABLE.items():
        times, body = await _timed(client, query, analyst, span if "$from" in query else {}, runs)
        data = (body.get("data") or {}).get(field)
        out[label] = {"p50_ms": _pct(times, 0.5), "missing": data.get("missingCentres") if isinstance(data, dict)
                      else None, "items": len(data) if isinstance(data, list) else None,
                      "registered": data["totals"]["registered"] if isinstance(data, dict) else None,
                      "errors": sorted({e.get("extensions", {}).get("code") for e in body.get("errors", [])})}
    times, body = await _timed(client, CASELOAD, clerk, {}, runs)
    out["a caseworker's matters(...) right after"] = {
        "p50_ms": _pct(times, 0.5), "items": len(body["data"]["matters"]["nodes"]),
        "errors": sorted({e.get("extensions", {}).get("code") for e in body.get("errors", [])})}
    return out


CASELOAD = """query C { matters(filter: {regionPrefix: "632301"}, first: 20) { totalCount nodes { id status } } }"""
# (a caseworker's token: the centres are called through the interactive connectors)


async def _bulkhead(app: Any, feeder: Feeder, token: str, runs: int, url: str, base: int,
                    state: Path) -> dict[str, float]:
    """A caseworker's list (live path, interactive connectors) idle, then while the feeder
    resyncs every centre — in the same process (its own connectors, the same event loop)
    and, where the engine lets two processes share it, in a process of its own."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
        idle, _ = await _timed(client, CASELOAD, token, {}, runs * 3)
        resync = asyncio.create_task(feeder.load())
        during: list[float] = []
        while not resync.done():
            times, _ = await _timed(client, CASELOAD, token, {}, 1)
            during += times
        drifts = await resync
        out = {"idle_p50_ms": _pct(idle, 0.5), "during_resync_p50_ms": _pct(during, 0.5),
               "ratio": round(_pct(during, 0.5) / max(_pct(idle, 0.5), 0.1), 2), "requests_during": len(during),
               "resync_rate": RESYNC_RATE or 0.0,
               "resync_seconds": round(max((d.finished - d.started).total_seconds() for d in drifts.values()), 1)}
        if not url.startswith("duckdb:"):  # one process per DuckDB file
            child = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "benchmarks.projection", "--resync-only", url, str(base), str(state),
                "--resync-rate", str(RESYNC_RATE or 0),
                env={**os.environ, "ONEDOOR_LOGGING__LEVEL": "WARNING"})
            apart: list[float] = []
            while child.returncode is None:
                times, _ = await _timed(client, CASELOAD, token, {}, 1)
                apart += times
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(child.wait(), 0.001)
            out.update({"feeder_process_p50_ms": _pct(apart, 0.5),
                        "feeder_process_ratio": round(_pct(apart, 0.5) / max(_pct(idle, 0.5), 0.1), 2)})
    return out


async def _resync_only(url: str, base: int, state: Path) -> None:
    """A feeding process of its own: resync every centre into the shared projection, at
    the CPU priority ``python -m gateway.projection`` gives itself (nice 10)."""
    os.nice(10)
    settings = demo_settings_for({c: f"http://127.0.0.1:{base + 101 + i}" for i, c in enumerate(Centre)},
                                 f"http://127.0.0.1:{base + 100}", state, port=base + 1)
    store = await open_projection_store(url, STORED)
    feeder = Feeder(store, build_feeds(settings.centres, policy=feed_policy(ProjectionSettings())),
                    row_mapper(b"bench-key-of-32-bytes-0123456789"), FeedSettings(resync_rate=RESYNC_RATE))
    await feeder.load()
    await feeder.aclose()
    await store.aclose()


async def _replicate(store: ProjectionStore, times: int) -> int:
    """Copy every row ``times - 1`` times inside the engine (new ids, the same regions,
    dates and statuses; a petitioner per copy): the queries at ``times`` × the size
    without a ``times`` × larger sandbox. Measures the engine, not the feed."""
    sql: Any = getattr(store, "_sql")  # noqa: B009 - a benchmark reaches into the engine
    cols = [c if c not in ("native_id", "person") else f"{c} || '#' || {{k}}" for c in sql.columns]
    statement = (f"INSERT INTO matter ({', '.join(sql.columns)}) SELECT {', '.join(cols)} "  # noqa: S608
                 "FROM matter WHERE native_id NOT LIKE '%#%'")
    for k in range(1, times):
        text = statement.replace("{k}", str(k))
        if store.engine == "postgresql":
            async with getattr(store, "_pool").acquire() as conn:  # noqa: B009
                await conn.execute(text)
        else:
            await getattr(store, "_run")(lambda t=text: getattr(store, "_conn").execute(t))  # noqa: B009
    if store.engine == "postgresql":  # the copy bypasses upsert, which would have analysed after it
        await getattr(store, "analyse")()  # noqa: B009
    return sum([await store.count(c) for c in Centre])


async def run_engine(engine: str, matters: int, base: int, state: Path, runs: int, live: bool,
                     lag_changes: int, skip: int = 0, *, bulkhead: bool = False,
                     replicate: int = 1, issue_table: bool = False) -> dict[str, Any]:
    settings: GatewaySettings = demo_settings_for(
        {c: f"http://127.0.0.1:{base + 101 + i}" for i, c in enumerate(Centre)},
        f"http://127.0.0.1:{base + 100}", state, port=base + 1)
    url = f"{POSTGRES}?schema=bench_{uuid.uuid4().hex[:8]}" if engine == "postgresql" \
        else f"{engine}:///{state / f'projection-{uuid.uuid4().hex[:6]}.{engine}'}"
    store = await open_projection_store(url, STORED)
    config = ProjectionSettings(enabled=True, timeout_seconds=300)
    feeds = build_feeds(settings.centres, policy=feed_policy(config))
    feeder = Feeder(store, feeds, row_mapper(b"bench-key-of-32-bytes-0123456789"),
                    FeedSettings(poll_seconds=1.0, resync_seconds=24 * 3600, max_concurrency=2,
                                 resync_rate=RESYNC_RATE))
    rss_before = _peak_rss_mb()
    started = time.perf_counter()
    drifts = await feeder.load()
    load_s = time.perf_counter() - started
    rows = sum(d.seen for d in drifts.values())
    result: dict[str, Any] = {
        "engine": engine, "matters": matters, "rows": rows, "load_seconds": round(load_s, 1),
        "rows_per_second": round(rows / load_s), "peak_rss_mb": round(_peak_rss_mb(), 1),
        "peak_rss_before_load_mb": round(rss_before, 1), "size_on_disk_mb": await _size_mb(store, url),
        "load_per_centre_seconds": {c.value: round((d.finished - d.started).total_seconds(), 1)
                                    for c, d in drifts.items()},
    }
    audit = await open_audit_store(f"sqlite:///{state / f'audit-{engine}.sqlite'}")
    authenticate = build_authenticator(settings.auth)
    connectors = build_connectors(settings.centres)
    token = mint_token(state, {"iss": settings.auth.issuers[0].issuer, **persona_claims("analyst")}, ttl=3600) \
        if settings.auth.issuers else ""
    today = dt.datetime.now(CST).date()
    span = {"from": (today - dt.timedelta(days=365)).isoformat(), "to": today.isoformat()}
    app = create_app(settings, connectors, authenticate, audit=audit, projection=ProjectionHolder(store, feeder))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
        stats_ms, stats = await _timed(client, STATS, token, span, runs)
        late_ms, late = await _timed(client, OVERDUE, token, {}, runs)
    result["statistics"] = {"p50_ms": _pct(stats_ms, 0.5), "p95_ms": _pct(stats_ms, 0.95),
                            "registered": stats["data"]["statistics"]["totals"]["registered"],
                            "groups": len(stats["data"]["statistics"]["groups"]),
                            "missing": stats["data"]["statistics"]["missingCentres"]}
    result["overdue"] = {"p50_ms": _pct(late_ms, 0.5), "p95_ms": _pct(late_ms, 0.95),
                         "items": len(late["data"]["overdue"])}
    if issue_table:
        clerk = mint_token(state, {"iss": settings.auth.issuers[0].issuer,
                                   **persona_claims("caseworker", region="632300")}, ttl=3600)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
            result["issue_table"] = await _issue_table(client, token, clerk, span, runs)
    if live:
        plain = create_app(settings, connectors, authenticate, audit=audit)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=plain), base_url="http://gw") as client:
            live_stats, body = await _timed(client, STATS, token, span, 1)
            live_late, _ = await _timed(client, OVERDUE, token, {}, 1)
        result["live"] = {"statistics_ms": round(live_stats[0]), "overdue_ms": round(live_late[0]),
                          "statistics_missing": (body.get("data") or {}).get("statistics", {}).get("missingCentres"),
                          "errors": [e.get("extensions", {}).get("code") for e in body.get("errors", [])][:5]}
    if bulkhead:
        clerk = mint_token(state, {"iss": settings.auth.issuers[0].issuer,
                                   **persona_claims("caseworker", region="632300")}, ttl=3600)
        result["bulkhead"] = await _bulkhead(app, feeder, clerk, runs, url, base, state)
    if lag_changes:
        feeder.start()
        urls = {c: f"http://127.0.0.1:{base + 101 + i}" for i, c in enumerate(Centre)}
        world = World(7, matters=matters)  # the sandbox's world (same seed, same day)
        result["lag"] = await _lag(urls, world, feeder, store, lag_changes, per_second=20, skip=skip)
    await feeder.stop()
    if replicate > 1:
        copies = await _replicate(store, replicate)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
            stats_ms, stats = await _timed(client, STATS, token, span, runs)
            late_ms, late = await _timed(client, OVERDUE, token, {}, runs)
        result["replicated"] = {
            "rows": copies, "size_on_disk_mb": await _size_mb(store, url), "peak_rss_mb": round(_peak_rss_mb(), 1),
            "statistics": {"p50_ms": _pct(stats_ms, 0.5), "p95_ms": _pct(stats_ms, 0.95),
                           "registered": stats["data"]["statistics"]["totals"]["registered"]},
            "overdue": {"p50_ms": _pct(late_ms, 0.5), "p95_ms": _pct(late_ms, 0.95),
                        "items": len(late["data"]["overdue"])}}
    await feeder.aclose()
    await aclose_all(connectors)
    await authenticate.aclose()
    await audit.aclose()
    await store.aclose()
    if engine == "postgresql" and not os.environ.get("ONEDOOR_BENCH_KEEP"):  # leave the database as found
        import asyncpg

        conn = await asyncpg.connect(POSTGRES)
        try:
            await conn.execute(f"DROP SCHEMA IF EXISTS {url.rsplit('schema=', 1)[1]} CASCADE")
        finally:
            await conn.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matters", type=int, default=100_000)
    parser.add_argument("--engine", action="append", choices=["duckdb", "sqlite", "postgresql"])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--live", action="store_true", help="time the live path once for comparison")
    parser.add_argument("--lag-changes", type=int, default=200)
    parser.add_argument("--latency-ms", type=int, default=0, help="each centre's response time")
    parser.add_argument("--bulkhead", action="store_true", help="a caseworker's list idle and during a full resync")
    parser.add_argument("--replicate", type=int, default=1, help="then copy the rows K times in the engine and re-time")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where the JSON result is written")
    parser.add_argument("--issue-table", action="store_true", help="re-measure issue 13's table after the load")
    parser.add_argument("--resync-rate", type=float, default=ProjectionSettings().resync_rate,
                        help="records a second a reconciliation reads per centre (0: unpaced)")
    parser.add_argument("--child", nargs=3, metavar=("BASE", "STATE", "SKIP"), help=argparse.SUPPRESS)
    parser.add_argument("--resync-only", nargs=3, metavar=("URL", "BASE", "STATE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    global RESYNC_RATE
    RESYNC_RATE = args.resync_rate or None
    if args.resync_only:
        asyncio.run(_resync_only(args.resync_only[0], int(args.resync_only[1]), Path(args.resync_only[2])))
        return
    engines = args.engine or ["duckdb"]
    if args.child:  # one engine in a process of its own: its peak RSS is the load's alone
        base, state, skip = int(args.child[0]), Path(args.child[1]), int(args.child[2])
        result = asyncio.run(run_engine(engines[0], args.matters, base, state, args.runs, args.live,
                                        args.lag_changes, skip, bulkhead=args.bulkhead, replicate=args.replicate,
                                        issue_table=args.issue_table))
        print("RESULT " + json.dumps(result, ensure_ascii=False), flush=True)
        return
    base = free_base_port()
    out: dict[str, Any] = {"matters": args.matters, "at": dt.datetime.now(CST).isoformat(timespec="seconds"),
                           "cpus": os.cpu_count(), "engines": []}
    out["latency_ms"] = args.latency_ms
    with tempfile.TemporaryDirectory() as tmp, sandbox(base, Path(tmp), args.latency_ms, args.matters):
        for i, engine in enumerate(engines):
            skip = i * args.lag_changes // len(MOVES)  # each engine moves records of its own
            cmd = [sys.executable, "-m", "benchmarks.projection", "--matters", str(args.matters), "--engine", engine,
                   "--runs", str(args.runs), "--lag-changes", str(args.lag_changes),
                   "--replicate", str(args.replicate), "--child", str(base), tmp, str(skip),
                   "--resync-rate", str(args.resync_rate or 0),
                   *(["--live"] if args.live else []), *(["--bulkhead"] if args.bulkhead else []),
                   *(["--issue-table"] if args.issue_table else [])]
            done = subprocess.run(cmd, capture_output=True, text=True, check=False,
                                  env={**os.environ, "ONEDOOR_LOGGING__LEVEL": "WARNING"})
            lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
            if not lines:
                raise SystemExit(f"{engine} failed:\n{done.stderr[-3000:]}")
            result = json.loads(lines[-1].removeprefix("RESULT "))
            print(json.dumps(result, ensure_ascii=False), flush=True)
            out["engines"].append(result)
    args.results.mkdir(parents=True, exist_ok=True)
    size = args.matters * args.replicate
    suffix = (f"x{args.replicate}" if args.replicate > 1 else "") + (f"-{args.latency_ms}ms" if args.latency_ms else "")
    path = args.results / f"projection-{args.matters}{suffix}.json"
    out["replicated_to"] = size
    path.write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n")
    print(f"written {path}")


if __name__ == "__main__":
    main()
