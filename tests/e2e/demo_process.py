"""``onedoor demo`` as a real child process: started on free ports, its banner read,
stopped with Ctrl-C (SIGINT) — and it must exit 0."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from benchmarks.processes import free_base_port

__all__ = ["Demo", "running_demo"]


@dataclass
class Demo:
    port: int
    lines: list[str]  # the banner, up to "Ctrl-C stops everything"

    @property
    def out(self) -> str:
        return "\n".join(self.lines)

    def printed(self, prefix: str) -> dict[str, str]:
        """``centre MEDIATION: http://…`` lines as {"MEDIATION": "http://…"}."""
        return {ln.split()[1].rstrip(":"): ln.split()[2] for ln in self.lines if ln.startswith(prefix + " ")}


@contextlib.contextmanager
def running_demo(state_dir: Path) -> Iterator[Demo]:
    port = free_base_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "demo", "--port", str(port), "--state-dir", str(state_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip("\n"))
            if line.startswith("Ctrl-C stops everything"):
                break
        yield Demo(port, lines)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        finally:
            process.stdout.close()
    assert code == 0, "\n".join(lines)
