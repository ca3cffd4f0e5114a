"""Node.js for the third-party client suite: the pinned packages of
``tests/clients/package.json``, installed with ``npm ci`` from the committed
lock file into the git-ignored ``tests/clients/node_modules`` on first use,
and a runner for the scripts here.

Every script prints one JSON object as its last line of output: what it
observed, for the Python test to judge (the assertions live in Python, the
clients in Node).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

__all__ = ["HERE", "NODE", "NPM", "install", "requires_node", "run_script"]

HERE = Path(__file__).parent
NODE, NPM = shutil.which("node"), shutil.which("npm")
_STAMP = HERE / "node_modules" / ".onedoor-lock-sha256"  # the lock file installed

requires_node = pytest.mark.skipif(
    NODE is None or NPM is None,
    reason="node and npm are not on PATH: the third-party client suite (graphql-http, graphql-ws, "
           "Apollo Client, Apollo composition and gateway) cannot run",
)


def install() -> Path:
    """``npm ci`` once per lock file change; safe when two pytest processes race."""
    wanted = hashlib.sha256((HERE / "package-lock.json").read_bytes()).hexdigest()
    tag = hashlib.sha256(str(HERE).encode()).hexdigest()[:12]
    with (Path(tempfile.gettempdir()) / f"onedoor-npm-ci-{tag}.lock").open("w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        if not _STAMP.is_file() or _STAMP.read_text() != wanted:
            done = subprocess.run(
                [str(NPM), "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=HERE, capture_output=True, text=True, timeout=900, check=False)
            assert done.returncode == 0, f"npm ci failed:\n{done.stdout}\n{done.stderr}"
            _STAMP.write_text(wanted)
    return HERE / "node_modules"


def run_script(script: str, *args: str, env: dict[str, str] | None = None,
               timeout: float = 180) -> dict[str, Any]:
    """Run ``node SCRIPT ARGS`` here; the parsed JSON of its last output line."""
    done = subprocess.run(
        [str(NODE), str(HERE / script), *args], cwd=HERE, capture_output=True, text=True,
        timeout=timeout, check=False,
        env={**os.environ, "NODE_NO_WARNINGS": "1", **(env or {})})
    lines = done.stdout.strip().splitlines()
    assert done.returncode == 0 and lines, (
        f"node {script} exited {done.returncode}\nstdout:\n{done.stdout[-4000:]}\n"
        f"stderr:\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result
