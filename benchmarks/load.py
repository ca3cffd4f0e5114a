"""Load with faults: many concurrent clients on loopback while faults are
injected on random centres. Bounded in count and time; stops by itself.

Pass criteria (reported, and the exit code): zero gateway 5xx, every response
well-formed JSON with either data or errors carrying a stable code, and no
connections or tasks left behind afterwards (the gateway's open sockets are
counted from /proc before and after).

    python -m benchmarks.load [--clients 200] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from sandbox.client import set_fault

from .processes import free_base_port, gateway, sandbox, worker_pids
from .run import RESULTS, Bench

MODES = ("down", "slow", "error", "throttle", "malformed", "partial", "ok")
KNOWN_CODES = {"CENTRE_UNAVAILABLE", "CENTRE_TIMEOUT", "CENTRE_BAD_RESPONSE", "CENTRE_THROTTLED"}


def _open_sockets(pid: int) -> int:
    fd_dir = Path(f"/proc/{pid}/fd")
    count = 0
    for fd in fd_dir.iterdir():
        try:
            if fd.readlink().name.startswith("socket:"):
                count += 1
        except OSError:
            continue
    return count


async def chaos(bench: Bench, stop: float, log: list[str]) -> None:
    rng = random.Random(7)
    while time.perf_counter() < stop:
        url = rng.choice(bench.centres)
        mode = rng.choice(MODES)
        await set_fault(url, mode, rate=rng.choice((0.3, 0.7, 1.0)), slowMs=3000)
        log.append(f"{url.rsplit(':', 1)[1]}={mode}")
        await asyncio.sleep(rng.uniform(1.0, 3.0))
    for url in bench.centres:
        await set_fault(url, "ok", rate=1.0)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(args.state_dir) if args.state_dir else Path(tmp)
        state.mkdir(parents=True, exist_ok=True)
        base = free_base_port()
        with sandbox(base, state, args.latency_ms, None):
            bench = Bench(base, state, args.latency_ms)
            with gateway(base, state, 1) as process:
                pid = worker_pids(process.pid)[0]
                statuses: Counter[int] = Counter()
                codes: Counter[str] = Counter()
                transport_errors: Counter[str] = Counter()
                malformed = 0
                faults: list[str] = []
                limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)
                async with httpx.AsyncClient(headers=bench.headers, limits=limits, timeout=30) as http:
                    # Warm the gateway's connection pools to the centres at this
                    # concurrency first: pooled keep-alive sockets are not leaks.
                    warm_until = time.perf_counter() + 3

                    async def warm(k: int) -> None:
                        # Centre errors are allowed here: at this concurrency a slow
                        # centre may time out (a partial answer); a 5xx is not.
                        i = k
                        while time.perf_counter() < warm_until:
                            scenario = ("dashboard", "caseload", "trivial")[i % 3]
                            response = await http.post(bench.url, json=bench.body(scenario, i))
                            if response.status_code != 200:
                                raise RuntimeError(f"warm-up: {response.status_code}")
                            i += args.clients
                    await asyncio.gather(*(warm(k) for k in range(args.clients)))
                    await asyncio.sleep(1.0)
                    sockets_before = _open_sockets(pid)
                    stop = time.perf_counter() + args.seconds

                    async def client(k: int) -> None:
                        nonlocal malformed
                        i = k
                        while time.perf_counter() < stop:
                            scenario = ("dashboard", "caseload", "trivial")[i % 3]
                            try:
                                response = await http.post(bench.url, json=bench.body(scenario, i))
                            except httpx.TransportError as exc:
                                transport_errors[type(exc).__name__] += 1
                                i += args.clients
                                continue
                            statuses[response.status_code] += 1
                            try:
                                body = response.json()
                            except json.JSONDecodeError:
                                malformed += 1
                                continue
                            if "data" not in body and "errors" not in body:
                                malformed += 1
                            for error in body.get("errors") or []:
                                code = (error.get("extensions") or {}).get("code")
                                if code is None:
                                    malformed += 1
                                codes[str(code)] += 1
                            i += args.clients

                    await asyncio.gather(chaos(bench, stop, faults),
                                         *(client(k) for k in range(args.clients)))
                await asyncio.sleep(2.0)  # client connections closed; pools idle
                sockets_after = _open_sockets(pid)
    total = sum(statuses.values())
    result = {
        "clients": args.clients, "seconds": args.seconds, "requests": total,
        "statuses": dict(statuses), "error_codes": dict(codes), "malformed": malformed,
        "transport_errors": dict(transport_errors),
        "gateway_5xx": sum(n for s, n in statuses.items() if s >= 500),
        "unknown_codes": sorted(set(codes) - KNOWN_CODES - {"UNAUTHORIZED_FIELD_OR_TYPE"}),
        "sockets_before": sockets_before, "sockets_after": sockets_after,
        "faults_injected": len(faults),
    }
    result["passed"] = (result["gateway_5xx"] == 0 and malformed == 0 and not transport_errors
                        and sockets_after <= sockets_before + 10)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--state-dir", default=None, help="keep keys and logs here")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "load.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    raise SystemExit(0 if result["passed"] else 1)


if __name__ == "__main__":
    main()
