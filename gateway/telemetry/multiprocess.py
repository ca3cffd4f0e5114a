"""Prometheus across ``--workers N`` processes.

prometheus-client picks its storage when it is first imported, so the shared
directory must be in the environment before any worker imports it: ``onedoor
serve`` calls :func:`prepare_multiprocess_dir` before uvicorn starts the
workers, which inherit the variable. A stale directory would resurrect old
counts, so its ``*.db`` files are removed first (as the client's docs require).
Set ``PROMETHEUS_MULTIPROC_DIR`` yourself to choose the place (e.g. an
``emptyDir`` volume on Kubernetes); otherwise a private temporary one is made.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["prepare_multiprocess_dir"]


def prepare_multiprocess_dir() -> Path:
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    path = Path(given) if given else Path(tempfile.mkdtemp(prefix="onedoor-prometheus-"))
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    return path
