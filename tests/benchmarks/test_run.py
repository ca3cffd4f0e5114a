"""The benchmark harness end to end with tiny sizes: real processes, real
counts. Timings are printed by ``make bench``, never asserted; the counts are
(backend calls per query at the lower bound: one per centre per level)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from benchmarks import peer
from benchmarks.run import measure, table


async def test_benchmark_runs_and_counts_calls_at_the_lower_bound(tmp_path: Path) -> None:
    # OneDoor's arms only (--no-peer): composing the Node peer takes a minute
    args = argparse.Namespace(latency_ms=0, seconds=0.3, samples=3, concurrency=2, long=0,
                              state_dir=str(tmp_path), rounds=1, peer=False)
    results = await measure(args)
    rows = results["scenarios"]
    assert set(rows) == {"trivial", "dashboard", "caseload"}
    # dashboard: five citizen searches + the resident lookup, all one level
    # (linked matters come from those searches: no second level of calls)
    assert rows["dashboard"]["calls_per_query"] == 6 and rows["dashboard"]["levels"] == 1
    # caseload: 100 matters from each centre's list; PETITIONS pages at 50, so its two
    # pages are fetched together (still one level)
    assert rows["caseload"]["calls_per_query"] == 6 and rows["caseload"]["levels"] == 1
    assert rows["trivial"]["calls_per_query"] == 0 and rows["trivial"]["levels"] == 0
    for row in rows.values():
        assert row["rps_1w"] > 0 and row["rps_all"] > 0
        assert row["cpu_ms_1w"] >= 0 and row["cpu_ms_all"] >= 0  # from /proc (10 ms ticks)
    assert results["peak_rss_mb_1w"] > 0 and results["peak_rss_mb_all"] > 0
    assert results["direct_call_ms"] > 0
    rendered = table(results)
    assert "| dashboard | 6.0 |" in rendered and "Measured floor" in rendered
    assert "Peer arm (Hive Gateway) skipped: not asked for" in rendered


def test_the_peer_arm_is_skipped_with_its_reason_when_node_is_absent(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("benchmarks.peer.shutil.which", lambda name: None)
    assert peer.unavailable() == "node and npm not on PATH: the Hive Gateway peer arm is skipped"


def _arm(p50: float, rps: float, cpu: float, rss: float) -> dict[str, Any]:
    return {"peak_rss_mb": rss, "workers": 1, "load1": 2.0, "rounds": 3,
            "dashboard": {"p50_ms": p50, "p95_ms": p50 * 2, "rps": rps, "cpu_ms_per_query": cpu,
                          "calls_per_query": 6.0, "errors": 0},
            "trivial": {"p50_ms": 1.0, "rps": 900.0, "cpu_ms_per_query": 0.9}}


def test_the_side_by_side_table_shows_ratios_and_targets() -> None:
    row = {"calls_per_query": 6.0, "p50_ms": 40.0, "p95_ms": 60.0, "p99_ms": 90.0,
           "lower_bound_ms": 20, "ratio": 2.0, "ratio_measured": 1.8, "rps_1w": 40.0,
           "rps_all": 70.0, "cpu_ms_1w": 15.0, "cpu_ms_all": 14.0}
    results = {
        "latency_ms": 20, "concurrency": 32, "workers_all": 2, "rounds": 3, "direct_call_ms": 22.0,
        "scenarios": {"dashboard": row}, "peak_rss_mb_1w": 140.0, "peak_rss_mb_all": 141.0,
        "arms": {"onedoor": _arm(40.0, 40.0, 15.0, 140.0), "onedoor-all": _arm(45.0, 70.0, 14.0, 141.0),
                 "hive": _arm(60.0, 50.0, 12.0, 540.0)},
        "peer": {"arms": ["hive"]}, "machine": {"cores": 2, "load_at_start": [2.0, 2.0, 2.0]},
        "raw": [{"arm": "hive", "scenarios": {"dashboard": {"machine_busy_pct": 95.0}}}],
    }
    rendered = table(results)
    assert "| dashboard p50 ms | 40 | 45 | 60 | 0.67 | ÷ ≤ 0.75 | yes |" in rendered
    assert "| dashboard req/s | 40 | 70 | 50 | 0.8 | ÷ ≥ 1.5 | no |" in rendered
    assert "| peak RSS MB per worker | 140 | 141 | 540 | 0.26 | ≤ 150 MB | yes |" in rendered
    assert "OneDoor 2 workers" in rendered and "whole machine busy 95–95 %" in rendered
