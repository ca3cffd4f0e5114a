"""The benchmark harness end to end with tiny sizes: real processes, real
counts. Timings are printed by ``make bench``, never asserted; the counts are
(backend calls per query at the lower bound: one per centre per level)."""

from __future__ import annotations

import argparse
from pathlib import Path

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
