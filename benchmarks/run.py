"""``make bench``: the benchmark the README's table comes from.

Per scenario it reports backend calls per query (from each centre's
``/_sandbox/stats``), latency p50/p95/p99 for one client, the critical-path
lower bound (levels of dependent centre calls × centre latency) and the p50's
ratio to it, requests per second with one and with two gateway workers, peak
RSS per worker and RSS growth over a long run. Timings are reported, never
asserted: the machine is shared.

    python -m benchmarks.run [--latency-ms 20] [--seconds 8] [--long 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from gateway.demo import demo_samples
from onedoor.model import CST
from policy.personas import persona_claims
from sandbox.client import get_stats, reset_stats
from sandbox.idp import mint_token
from sandbox.world import World

from .processes import free_base_port, gateway, rss_kb, sandbox, worker_pids

RESULTS = Path(__file__).parent / "results"

COMMON = "id centre reference category title status centreStatus receivedAt dueAt overdue"
DASHBOARD = f"""query Dashboard($id: String!) {{ citizen(idNumber: $id) {{ name phone
  matters(first: 20) {{ totalCount nodes {{ {COMMON} parties {{ name idNumber }}
    events {{ at action }}
    links {{ relation matter {{ {COMMON} events {{ at action }} }} }} }} }} }} }}"""
CASELOAD = """query Caseload($region: String!) { matters(filter: {regionPrefix: $region}, first: 100) {
  totalCount nodes { id centre reference title status dueAt overdue parties { role name phone } } } }"""
TRIVIAL = 'query Trivial { region(code: "632300") { name } }'
# Endpoints that read by id: the second level of a dashboard (links → matters).
BY_ID = {"GET /xf/item", "POST /cases:batchGet"}


class Bench:
    def __init__(self, base: int, state: Path, latency_ms: int) -> None:
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

    def body(self, scenario: str, n: int) -> dict[str, Any]:
        if scenario == "dashboard":
            return {"query": DASHBOARD, "variables": {"id": self.citizens[n % len(self.citizens)]}}
        if scenario == "caseload":
            return {"query": CASELOAD, "variables": {"region": self.regions[n % len(self.regions)]}}
        return {"query": TRIVIAL}

    async def one(self, http: httpx.AsyncClient, scenario: str, n: int) -> float:
        start = time.perf_counter()
        response = await http.post(self.url, json=self.body(scenario, n))
        elapsed = time.perf_counter() - start
        data = response.json()
        if response.status_code != 200 or data.get("errors"):
            raise RuntimeError(f"{scenario}: {response.status_code} "
                               f"{str(data.get('errors') or data)[:300]}")
        return elapsed

    async def calls_and_levels(self, http: httpx.AsyncClient, scenario: str, n: int) -> tuple[float, float]:
        total = 0
        levels = []
        for i in range(n):
            for url in self.centres:
                await reset_stats(url)
            await self.one(http, scenario, i)
            by_endpoint: Counter[str] = Counter()
            for url in self.centres:
                by_endpoint.update((await get_stats(url))["byEndpoint"])
            total += sum(by_endpoint.values())
            second = any(k in BY_ID for k in by_endpoint) or by_endpoint["GET /api/cases"] > 1 or (
                by_endpoint["GET /v1/applications"] > 1) or by_endpoint["POST /graphql"] > 2
            levels.append(0 if scenario == "trivial" else (2 if second else 1))
        return total / n, statistics.mean(levels)

    async def latency(self, http: httpx.AsyncClient, scenario: str, n: int) -> list[float]:
        return sorted([await self.one(http, scenario, i) for i in range(n)])

    async def throughput(self, scenario: str, seconds: float, concurrency: int) -> float:
        done = 0
        stop = time.perf_counter() + seconds
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(headers=self.headers, limits=limits, timeout=30) as http:
            async def client(k: int) -> None:
                nonlocal done
                i = k
                while time.perf_counter() < stop:
                    await self.one(http, scenario, i)
                    done += 1
                    i += concurrency
            started = time.perf_counter()
            await asyncio.gather(*(client(k) for k in range(concurrency)))
            return done / (time.perf_counter() - started)

    async def direct_call_ms(self, n: int = 60) -> float:
        """p50 of one API call straight to a centre (no gateway) at the set latency:
        what a level of centre calls really costs on this machine, HTTP stacks included."""
        url = self.centres[0] + "/api/cases"
        async with httpx.AsyncClient(headers={"X-Api-Key": "mediation-demo-key"}) as http:
            times = []
            for i in range(n + 5):
                start = time.perf_counter()
                response = await http.get(url, params={"ids": f"TJ{i}"})
                if response.status_code != 200:
                    raise RuntimeError(f"direct call: {response.status_code}")
                times.append(time.perf_counter() - start)
        return _pct(sorted(times[5:]), .5)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def _pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] * 1000


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"latency_ms": args.latency_ms, "scenarios": {}}
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(args.state_dir) if args.state_dir else Path(tmp)
        state.mkdir(parents=True, exist_ok=True)
        base = free_base_port()
        with sandbox(base, state, args.latency_ms, None):
            bench = Bench(base, state, args.latency_ms)
            direct = await bench.direct_call_ms()
            results["direct_call_ms"] = round(direct, 1)
            for workers in (1, 2):
                with gateway(base, state, workers) as process:
                    async with httpx.AsyncClient(headers=bench.headers, timeout=30) as http:
                        for scenario in ("trivial", "dashboard", "caseload"):
                            row = results["scenarios"].setdefault(scenario, {})
                            await bench.latency(http, scenario, 5)  # warm up pools and caches
                            if workers == 1:
                                calls, levels = await bench.calls_and_levels(http, scenario, 10)
                                lat = await bench.latency(http, scenario, args.samples)
                                bound = levels * args.latency_ms
                                floor = levels * direct
                                row.update(calls_per_query=round(calls, 2), levels=round(levels, 2),
                                           p50_ms=round(_pct(lat, .5), 1), p95_ms=round(_pct(lat, .95), 1),
                                           p99_ms=round(_pct(lat, .99), 1), lower_bound_ms=bound,
                                           ratio=round(_pct(lat, .5) / bound, 2) if bound else None,
                                           ratio_measured=round(_pct(lat, .5) / floor, 2) if floor else None)
                            rps = await bench.throughput(scenario, args.seconds, args.concurrency)
                            row[f"rps_{workers}w"] = round(rps, 1)
                    pids = worker_pids(process.pid)
                    peak = max(rss_kb(pid, "VmHWM") for pid in pids)
                    results[f"peak_rss_mb_{workers}w"] = round(peak / 1024, 1)
                    if workers == 1 and args.long:
                        results["long_run"] = await long_run(bench, pids[0], args.long)
    return results


async def long_run(bench: Bench, pid: int, requests: int) -> dict[str, Any]:
    """RSS after a warm-up tenth and at the end of ``requests`` mixed requests."""
    limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
    async with httpx.AsyncClient(headers=bench.headers, limits=limits, timeout=30) as http:
        async def run(count: int, offset: int) -> None:
            queue = iter(range(offset, offset + count))

            async def client() -> None:
                for i in queue:
                    await bench.one(http, "trivial" if i % 4 else "dashboard", i)
            await asyncio.gather(*(client() for _ in range(16)))

        await run(requests // 10, 0)
        warm = rss_kb(pid)
        await run(requests - requests // 10, requests // 10)
        end = rss_kb(pid)
    return {"requests": requests, "rss_after_warmup_mb": round(warm / 1024, 1),
            "rss_end_mb": round(end / 1024, 1), "growth_mb": round((end - warm) / 1024, 1)}


def table(results: dict[str, Any]) -> str:
    lines = [
        f"Centre latency {results['latency_ms']} ms per call; one client for latency; "
        f"{results.get('concurrency', '')} concurrent clients for throughput.",
        "",
        "| scenario | backend calls / query | p50 ms | p95 ms | p99 ms | lower bound ms | p50 ÷ bound "
        "| p50 ÷ measured floor | req/s 1 worker | req/s 2 workers |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]

    def ratio(value: float | None) -> str:
        return "—" if value is None else str(value)

    for name, row in results["scenarios"].items():
        lines.append(
            f"| {name} | {row['calls_per_query']} | {row['p50_ms']} | {row['p95_ms']} | {row['p99_ms']} "
            f"| {row['lower_bound_ms']} | {ratio(row['ratio'])} | {ratio(row.get('ratio_measured'))} "
            f"| {row['rps_1w']} | {row['rps_2w']} |"
        )
    lines.append("")
    if "direct_call_ms" in results:
        lines.append(f"Measured floor: one call straight to a centre (no gateway) takes "
                     f"{results['direct_call_ms']} ms p50 at the set latency; the floor is "
                     f"levels × that.")
    lines.append(f"Peak RSS per worker: {results['peak_rss_mb_1w']} MB (1 worker), "
                 f"{results['peak_rss_mb_2w']} MB (2 workers).")
    if "long_run" in results:
        lr = results["long_run"]
        lines.append(f"Long run: {lr['requests']} requests, RSS {lr['rss_after_warmup_mb']} MB after "
                     f"warm-up → {lr['rss_end_mb']} MB at the end ({lr['growth_mb']:+} MB).")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--long", type=int, default=20000)
    parser.add_argument("--state-dir", default=None, help="keep keys and logs here")
    args = parser.parse_args()
    results = asyncio.run(measure(args))
    results["concurrency"] = args.concurrency
    results["when"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    (RESULTS / "latest.md").write_text(table(results))
    print(table(results))


if __name__ == "__main__":
    main()
