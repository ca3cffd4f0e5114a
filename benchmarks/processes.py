"""Start and stop the processes a benchmark measures: the sandbox centres and
the gateway (``onedoor serve``), each a real process on loopback ports."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from gateway.demo import centres_toml
from onedoor.model import Centre
from sandbox.runner import SERVERS

RATE_LIMIT = 100_000.0  # LITIGATION's requests per second during benchmarks

__all__ = ["cpu_seconds", "free_base_port", "gateway", "loadavg", "machine_busy", "process_tree", "rss_kb",
           "sandbox", "stop", "wait_for_port", "worker_pids"]

_TICK = os.sysconf("SC_CLK_TCK")

CONFIG = """\
mode = "production"
host = "127.0.0.1"
port = {port}
[auth]
reject_anonymous = true
[[auth.issuers]]
issuer = "{idp}"
jwks_url = "{idp}/.well-known/jwks.json"
audiences = ["onedoor"]
[audit]
url = "sqlite:///{state}/audit.sqlite"
[limits]
max_cost = 100000
{centres}"""


def free_base_port() -> int:
    for _ in range(100):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base: int = probe.getsockname()[1]
        if base + 106 > 65535:
            continue
        try:
            for offset in (0, 1, *range(100, 106)):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", base + offset))
            return base
        except OSError:
            continue
    raise RuntimeError("no free port range")


def wait_for_port(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port}")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def sandbox(base: int, state: Path, latency_ms: int, matters: int | None,
            split: bool = True, rate_limit: float = RATE_LIMIT) -> Iterator[list[int]]:
    """The identity provider and the five centres; ``split``: each in its own
    process, as real centres are separate systems (one process would queue all
    five centres' work on one event loop). Yields the processes' pids.

    LITIGATION's demo rate limit (50 requests/s) would cap any gateway at 50
    dashboards a second; the benchmarks measure the gateway, so it is lifted."""
    cmd = [sys.executable, "-m", "gateway.cli", "sandbox", "--port", str(base), "--state-dir",
           str(state), "--latency-ms", str(latency_ms), "--rate-limit", str(rate_limit)]
    if matters:
        cmd += ["--matters", str(matters)]
    groups = [["--only", name] for name in SERVERS] if split else [[]]
    processes = [subprocess.Popen(cmd + extra, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for extra in groups]
    try:
        for offset in range(100, 106):
            wait_for_port(base + offset)
        # Ports are bound before the apps exist: wait until the identity
        # provider answers, so its key is on disk before anyone mints a token.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, ValueError):
                url = f"http://127.0.0.1:{base + 100}/.well-known/jwks.json"
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            time.sleep(0.1)
        yield [p.pid for p in processes]
    finally:
        for process in processes:
            stop(process)


@contextlib.contextmanager
def gateway(base: int, state: Path, workers: int | str) -> Iterator[subprocess.Popen[bytes]]:
    """``onedoor serve`` on ``base + 1``; ``workers``: a count or ``auto`` (every core)."""
    port = base + 1
    idp = f"http://127.0.0.1:{base + 100}"
    config = state / f"gateway-{workers}.toml"
    urls = {c: f"http://127.0.0.1:{base + 101 + i}" for i, c in enumerate(Centre)}
    config.write_text(CONFIG.format(port=port, idp=idp, state=state, centres=centres_toml(urls, idp)))
    log = (state / f"gateway-{workers}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "serve", "--config", str(config), "--workers",
         str(workers)],
        stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "ONEDOOR_LOGGING__LEVEL": "WARNING"},
    )
    try:
        wait_for_port(port)
        yield process
    finally:
        stop(process)
        log.close()


def worker_pids(master: int) -> list[int]:
    """uvicorn's worker processes (or the master itself when it serves alone)."""
    children = Path(f"/proc/{master}/task/{master}/children")
    kids = [int(p) for p in children.read_text().split()] if children.exists() else []
    # With --workers N > 1 uvicorn's children include a multiprocessing resource
    # tracker; workers are the ones that hold the listening socket's memory.
    return kids if kids else [master]


def rss_kb(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (a server's master and its workers)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(p) for p in (task / "children").read_text().split()]
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes have used so far (``/proc/PID/stat``)."""
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / _TICK


def machine_busy() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine so far (``/proc/stat``)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return sum(values) - idle, sum(values)


def loadavg() -> list[float]:
    """The machine's load average over 1, 5 and 15 minutes."""
    return [float(v) for v in Path("/proc/loadavg").read_text().split()[:3]]
