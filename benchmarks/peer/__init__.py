"""The peer arm of ``make bench``: Hive Gateway (The Guild's Node gateway)
composed over the same sandbox centre processes as OneDoor.

The npm packages are pinned by ``package-lock.json`` here and installed with
``npm ci`` into the git-ignored ``node_modules`` on first use (again when the
lock file changes). ``mesh.config.ts`` composes the supergraph from the
centres' OpenAPI specs and GOVERNANCE's SDL, with the fixes the OpenAPI loader
needs for them (see its comments); ``gateway.config.ts`` adds RS256 JWT
verification for the ``hive-jwt`` arm. Everything it writes (specs, the
supergraph, logs) goes to a temporary folder; ports are the caller's.

    reason = unavailable()            # None, or why the arm is skipped
    peer = Peer(base, workdir).compose()    # installs, composes (RuntimeError if it cannot)
    with peer.serve(port, jwt=False) as process: ...

What differs from OneDoor: the peer does no masking, jurisdiction or audit,
verifies a JWT only with ``jwt=True``, and serves four centres (its loader
returns PETITIONS' XML as one opaque string).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ..processes import stop, wait_for_port

__all__ = ["DASHBOARD", "HERE", "TRIVIAL", "Peer", "unavailable"]

HERE = Path(__file__).parent
DASHBOARD = (HERE / "dashboard.graphql").read_text()
TRIVIAL = "query Trivial { __typename }"
_STAMP = HERE / "node_modules" / ".onedoor-lock-sha256"  # the lock file installed


def unavailable() -> str | None:
    """Why the peer arm cannot run here, or None."""
    missing = [name for name in ("node", "npm") if shutil.which(name) is None]
    if missing:
        return f"{' and '.join(missing)} not on PATH: the Hive Gateway peer arm is skipped"
    return None


def install() -> None:
    """``npm ci`` once per lock file change; safe when two runs race."""
    wanted = hashlib.sha256((HERE / "package-lock.json").read_bytes()).hexdigest()
    tag = hashlib.sha256(str(HERE).encode()).hexdigest()[:12]
    with (Path(tempfile.gettempdir()) / f"onedoor-npm-ci-{tag}.lock").open("w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        if _STAMP.is_file() and _STAMP.read_text() == wanted:
            return
        done = subprocess.run([shutil.which("npm") or "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                              cwd=HERE, capture_output=True, text=True, timeout=900, check=False)
        if done.returncode:
            raise RuntimeError(f"npm ci failed in {HERE}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
        _STAMP.write_text(wanted)


class Peer:
    """The composed peer over the sandbox at ``base`` (benchmarks.processes layout).

    The composition bakes in a LEGAL_SERVICES token (valid one hour): a Peer
    is for one benchmark session."""

    def __init__(self, base: int, workdir: Path) -> None:
        self.base = base
        self.workdir = workdir / "peer"
        self.supergraph = self.workdir / "supergraph.graphql"

    def compose(self) -> Peer:
        install()
        self.workdir.mkdir(parents=True, exist_ok=True)
        with (self.workdir / "compose.log").open("wb") as log:
            done = subprocess.run(
                [str(HERE / "node_modules/.bin/mesh-compose"), "-o", str(self.supergraph)],
                cwd=HERE, stdout=log, stderr=subprocess.STDOUT, timeout=300, check=False,
                env={**self._env(), "PEER_SPECS": str(self.workdir / "specs")})
        if done.returncode or not self.supergraph.is_file():
            tail = (self.workdir / "compose.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"mesh-compose failed:\n{tail}")
        return self

    def _env(self) -> dict[str, str]:
        return {**os.environ, "SANDBOX_BASE": str(self.base), "NODE_NO_WARNINGS": "1"}

    @contextlib.contextmanager
    def serve(self, port: int, *, jwt: bool = False, forks: int = 1
              ) -> Iterator[subprocess.Popen[bytes]]:
        """The gateway on ``port``: ``forks`` worker processes (1: the process itself)."""
        name = f"hive{'-jwt' if jwt else ''}-{forks}"
        log = (self.workdir / f"{name}.log").open("ab")
        process = subprocess.Popen(
            [str(HERE / "node_modules/.bin/hive-gateway"), "supergraph", str(self.supergraph),
             "--config-path", str(HERE / "gateway.config.ts"), "--host", "127.0.0.1",
             "--port", str(port), "--fork", str(forks)],
            cwd=HERE, stdout=log, stderr=subprocess.STDOUT,
            env={**self._env(), "NODE_ENV": "production", "PEER_JWT": "1" if jwt else "0"})
        try:
            wait_for_port(port)
            yield process
        finally:
            stop(process)
            log.close()
