"""``make bench``: the benchmark the README's table comes from.

Arms, over the same sandbox centre processes (one process per centre):
``onedoor`` (one worker), ``onedoor-all`` (``--workers auto``: every core) and
the peer, ``hive`` (Hive Gateway composed over the same centres, one process;
benchmarks/peer; skipped with the reason printed when Node is absent). Each
round starts every arm fresh, measures it and stops it; the arms' order
alternates between rounds, and the table shows the medians over rounds.

Per arm and scenario: backend calls per query (each centre's
``/_sandbox/stats``), latency p50/p95/p99 for one client, requests per second
for N clients, the gateway's CPU per query under that load (its processes'
``/proc/PID/stat``), peak RSS per worker; for OneDoor also the critical-path
lower bound (levels of dependent centre calls × centre latency), the p50's
ratio to the measured floor and RSS growth over a long run. Timings are
reported, never asserted: the machine is shared, so its load is recorded too.

    python -m benchmarks.run [--rounds 3] [--seconds 8] [--long 20000] [--fast] [--no-peer]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from gateway.cli import available_cores
from gateway.demo import demo_samples
from onedoor.model import CST
from policy.personas import persona_claims
from sandbox.idp import mint_token
from sandbox.world import World

from . import peer as peer_arm
from .loadgen import Load, backend_calls, percentile
from .processes import free_base_port, gateway, loadavg, process_tree, rss_kb, sandbox, worker_pids
from .report import table

__all__ = ["RESULTS", "Bench", "measure", "table"]

RESULTS = Path(__file__).parent / "results"

COMMON = "id centre reference category title status centreStatus receivedAt dueAt overdue"
DASHBOARD = f"""query Dashboard($id: String!) {{ citizen(idNumber: $id) {{ name phone
  matters(first: 20) {{ totalCount nodes {{ {COMMON} parties {{ name idNumber }}
    events {{ at action }}
    links {{ relation matter {{ {COMMON} events {{ at action }} }} }} }} }} }} }}"""
CASELOAD = """query Caseload($region: String!) { matters(filter: {regionPrefix: $region}, first: 100) {
  totalCount nodes { id centre reference title status dueAt overdue parties { role name phone } } } }"""
TRIVIAL = 'query Trivial { region(code: "632300") { name } }'
# Endpoints that read by id: a second level of centre calls (links → matters).
BY_ID = {"GET /xf/item", "POST /cases:batchGet"}
SCENARIOS = {"onedoor": ("trivial", "dashboard", "caseload"), "hive": ("trivial", "dashboard")}


class Bench:
    """The sandbox's citizens, regions and an auditor token; request bodies per scenario."""

    def __init__(self, base: int, state: Path, latency_ms: int) -> None:
        self.base = base
        self.url = f"http://127.0.0.1:{base + 1}/graphql"
        self.centres = [f"http://127.0.0.1:{base + 101 + i}" for i in range(5)]
        self.latency_ms = latency_ms
        now = dt.datetime.now(CST).replace(hour=0, minute=0, second=0, microsecond=0)
        world = World(7, now=now)
        self.citizens = demo_samples(world, 40, region_prefix="")
        self.regions = ["632301", "630102", "650203", "620881", "431302"]
        claims = persona_claims("auditor")
        issuer = f"http://127.0.0.1:{base + 100}"
        self.token = mint_token(state, {"iss": issuer, **claims}, ttl=3600)

    def body(self, scenario: str, n: int, target: str = "onedoor") -> dict[str, Any]:
        if scenario == "dashboard":
            query = DASHBOARD if target == "onedoor" else peer_arm.DASHBOARD
            return {"query": query, "variables": {"id": self.citizens[n % len(self.citizens)]}}
        if scenario == "caseload":
            return {"query": CASELOAD, "variables": {"region": self.regions[n % len(self.regions)]}}
        return {"query": TRIVIAL if target == "onedoor" else peer_arm.TRIVIAL}

    def load(self, url: str, scenario: str, target: str = "onedoor") -> Load:
        return Load(url, self.headers, lambda n: self.body(scenario, n, target))

    async def direct_call_ms(self, n: int = 60) -> float:
        """p50 of one API call straight to a centre (no gateway) at the set latency:
        what a level of centre calls really costs on this machine, HTTP stacks included."""
        url = self.centres[0] + "/api/cases"
        async with aiohttp.ClientSession(headers={"X-Api-Key": "mediation-demo-key"}) as http:
            times = []
            for i in range(n + 5):
                start = time.perf_counter()
                async with http.get(url, params={"ids": f"TJ{i}"}) as response:
                    await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"direct call: {response.status}")
                times.append(time.perf_counter() - start)
        return percentile(sorted(times[5:]), .5)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def _levels(scenario: str, calls: dict[str, int]) -> int:
    """Levels of dependent centre calls: 2 when a read by id (or a repeated search) followed."""
    if scenario == "trivial" or not calls:
        return 0
    second = any(k in BY_ID for k in calls) or calls.get("GET /api/cases", 0) > 1 or (
        calls.get("GET /v1/applications", 0) > 1) or calls.get("POST /graphql", 0) > 2
    return 2 if second else 1


async def measure_arm(bench: Bench, arm: str, process_pid: int, url: str, args: argparse.Namespace,
                      first: bool) -> dict[str, Any]:
    """One round of one arm (already started): every scenario, then its peak RSS."""
    target = "hive" if arm.startswith("hive") else "onedoor"
    alone = not arm.endswith("-all")
    row: dict[str, Any] = {"arm": arm, "scenarios": {}}
    for scenario in SCENARIOS[target]:
        out: dict[str, Any] = {}
        async with bench.load(url, scenario, target) as load:
            await load.latency(0, warm_up=5)  # warm up pools and caches
            # ... and a JIT (the peer's V8): a short run at full concurrency, unmeasured
            await load.throughput(min(2.0, args.seconds / 4), args.concurrency, [])
            if first and alone:
                counts = await backend_calls(load, bench.centres, args.calls)
                out["calls_per_query"] = round(sum(sum(c.values()) for c in counts) / len(counts), 2)
                out["levels"] = round(statistics.mean(_levels(scenario, c) for c in counts), 2)
            if alone:
                lat = await load.latency(args.samples, warm_up=0)
                out.update(p50_ms=round(percentile(lat, .5), 1), p95_ms=round(percentile(lat, .95), 1),
                           p99_ms=round(percentile(lat, .99), 1))
            run = await load.throughput(args.seconds, args.concurrency, process_tree(process_pid))
        out.update(rps=round(run.rps, 1), cpu_ms_per_query=round(run.cpu_ms_per_query, 2),
                   errors=run.errors, machine_busy_pct=round(run.machine_busy_pct, 1))
        if run.first_error:
            out["first_error"] = run.first_error
        row["scenarios"][scenario] = out
    row["workers"] = len(worker_pids(process_pid))
    row["peak_rss_mb"] = round(max(rss_kb(p, "VmHWM") for p in process_tree(process_pid)) / 1024, 1)
    row["load1"] = loadavg()[0]
    return row


def _medians(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per scenario and metric, the median over an arm's rounds."""
    out: dict[str, Any] = {"rounds": len(rows)}
    for key in ("peak_rss_mb", "workers", "load1"):
        out[key] = round(statistics.median(r[key] for r in rows), 1)
    for scenario in rows[0]["scenarios"]:
        values: dict[str, list[float]] = {}
        for r in rows:
            for metric, value in r["scenarios"][scenario].items():
                if isinstance(value, int | float):
                    values.setdefault(metric, []).append(value)
        out[scenario] = {m: round(statistics.median(v), 2) for m, v in values.items()}
    return out


def _arms(args: argparse.Namespace) -> tuple[list[str], str | None]:
    arms = ["onedoor", "onedoor-all"]
    reason = "not asked for (--no-peer)" if not getattr(args, "peer", False) else peer_arm.unavailable()
    if reason is None:
        arms += ["hive", *(["hive-jwt"] if getattr(args, "peer_jwt", False) else [])]
    return arms, reason


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    rounds = getattr(args, "rounds", 1)
    args.calls = getattr(args, "calls", 10)
    arms, skipped = _arms(args)
    results: dict[str, Any] = {
        "latency_ms": args.latency_ms, "concurrency": args.concurrency, "seconds": args.seconds,
        "samples": args.samples, "rounds": rounds, "workers_all": available_cores(),
        "machine": {"cores": os.cpu_count(), "load_at_start": loadavg()},
        "arms": {}, "raw": []}
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(args.state_dir) if args.state_dir else Path(tmp)
        state.mkdir(parents=True, exist_ok=True)
        base = free_base_port()
        with sandbox(base, state, args.latency_ms, None):
            bench = Bench(base, state, args.latency_ms)
            results["direct_call_ms"] = round(await bench.direct_call_ms(), 1)
            peer = None
            if "hive" in arms:
                try:
                    peer = peer_arm.Peer(base, state).compose()
                except RuntimeError as exc:  # reported, and OneDoor's arms still run
                    skipped = f"the peer could not be composed: {str(exc)[-300:]}"
                    arms = [a for a in arms if not a.startswith("hive")]
            for rnd in range(rounds):
                for arm in (arms if rnd % 2 == 0 else arms[::-1]):
                    results["raw"].append({"round": rnd + 1, **await _round(bench, state, peer, arm,
                                                                             args, rnd == 0)})
            if args.long:
                with gateway(base, state, 1) as process:
                    results["long_run"] = await long_run(bench, worker_pids(process.pid)[0], args.long)
    for arm in arms:
        results["arms"][arm] = _medians([r for r in results["raw"] if r["arm"] == arm])
    results["machine"]["load_at_end"] = loadavg()
    results["peer"] = {"skipped": skipped} if skipped else {"arms": [a for a in arms if "hive" in a]}
    _compat(results)
    return results


async def _round(bench: Bench, state: Path, peer: peer_arm.Peer | None, arm: str,
                 args: argparse.Namespace, first: bool) -> dict[str, Any]:
    if arm.startswith("onedoor"):
        with gateway(bench.base, state, "auto" if arm.endswith("-all") else 1) as process:
            return await measure_arm(bench, arm, process.pid, bench.url, args, first)
    assert peer is not None
    port = bench.base + 2
    with peer.serve(port, jwt=arm == "hive-jwt") as process:
        return await measure_arm(bench, arm, process.pid, f"http://127.0.0.1:{port}/graphql", args, first)


def _compat(results: dict[str, Any]) -> None:
    """OneDoor's rows by scenario, as the README's first table has them."""
    one, every = results["arms"]["onedoor"], results["arms"]["onedoor-all"]
    direct = results["direct_call_ms"]
    results["scenarios"] = {}
    for scenario in SCENARIOS["onedoor"]:
        row, levels = one[scenario], one[scenario]["levels"]
        bound, floor = levels * results["latency_ms"], levels * direct
        results["scenarios"][scenario] = {
            "calls_per_query": row["calls_per_query"], "levels": levels,
            "p50_ms": row["p50_ms"], "p95_ms": row["p95_ms"], "p99_ms": row["p99_ms"],
            "lower_bound_ms": bound, "ratio": round(row["p50_ms"] / bound, 2) if bound else None,
            "ratio_measured": round(row["p50_ms"] / floor, 2) if floor else None,
            "rps_1w": row["rps"], "rps_all": every[scenario]["rps"],
            "cpu_ms_1w": row["cpu_ms_per_query"], "cpu_ms_all": every[scenario]["cpu_ms_per_query"]}
    results["peak_rss_mb_1w"], results["peak_rss_mb_all"] = one["peak_rss_mb"], every["peak_rss_mb"]


async def long_run(bench: Bench, pid: int, requests: int) -> dict[str, Any]:
    """RSS after a warm-up tenth and at the end of ``requests`` mixed requests."""
    loads = {s: bench.load(bench.url, s) for s in ("trivial", "dashboard")}

    async def run(count: int, offset: int) -> None:
        queue = iter(range(offset, offset + count))

        async def client() -> None:
            for i in queue:
                await loads["trivial" if i % 4 else "dashboard"].one(i)
        await asyncio.gather(*(client() for _ in range(16)))

    async with loads["trivial"], loads["dashboard"]:
        await run(requests // 10, 0)
        warm = rss_kb(pid)
        await run(requests - requests // 10, requests // 10)
        end = rss_kb(pid)
    return {"requests": requests, "rss_after_warmup_mb": round(warm / 1024, 1),
            "rss_end_mb": round(end / 1024, 1), "growth_mb": round((end - warm) / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (medians)")
    parser.add_argument("--seconds", type=float, default=8.0, help="per throughput run")
    parser.add_argument("--samples", type=int, default=100, help="sequential requests for latency")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--long", type=int, default=20000, help="requests in the RSS run (0: none)")
    parser.add_argument("--no-peer", dest="peer", action="store_false", help="OneDoor's arms only")
    parser.add_argument("--peer-jwt", action="store_true", help="also Hive Gateway verifying JWTs")
    parser.add_argument("--fast", action="store_true",
                        help="a smoke run: one round, 1 s loads, 10 samples, no long run")
    parser.add_argument("--state-dir", default=None, help="keep keys and logs here")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where latest.{json,md} go")
    args = parser.parse_args()
    if args.fast:
        args.rounds, args.seconds, args.samples, args.long, args.calls = 1, 1.0, 10, 0, 3
    results = asyncio.run(measure(args))
    results["when"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    (args.out / "latest.md").write_text(table(results))
    print(table(results))


if __name__ == "__main__":
    main()
