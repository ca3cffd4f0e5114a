"""The projection benchmark end to end at a tiny size (real sandbox processes, a real
feeder, the GraphQL app over the projection): every answer it reports is complete,
the issue's table rows are all there, and the load read every matter. Timings are
reported by the benchmark, never asserted here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_projection_benchmark_reports_complete_answers(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.projection", "--matters", "3000", "--engine", "sqlite", "--runs", "1",
         "--lag-changes", "8", "--replicate", "2", "--issue-table", "--results", str(tmp_path)],
        capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    (engine,) = json.loads((tmp_path / "projection-3000x2.json").read_text())["engines"]
    assert engine["rows"] == 3000 and engine["statistics"]["missing"] == []
    assert engine["statistics"]["registered"] > 0 and engine["overdue"]["items"] > 0
    table = engine["issue_table"]
    assert len(table) == 5
    for label, row in table.items():
        assert row["errors"] == [], label
        assert row.get("missing") in (None, []), label
    assert table["a caseworker's matters(...) right after"]["items"] > 0
    assert engine["replicated"]["rows"] == 6000
    assert engine["replicated"]["statistics"]["registered"] == 2 * engine["statistics"]["registered"]
    assert sum(lag["n"] for centre, lag in engine["lag"].items() if centre != "unseen") == 8
