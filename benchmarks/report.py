"""The tables ``make bench`` prints and writes to ``benchmarks/results/latest.md``:
OneDoor by scenario, then the arms side by side with OneDoor ÷ Hive Gateway
ratios and the targets of issue 15."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["table"]

# (label, scenario, metric, target ratio or limit, how the target reads)
_SIDE_BY_SIDE: list[tuple[str, str | None, str, Callable[[float, float | None], bool] | None, str]] = [
    ("dashboard p50 ms", "dashboard", "p50_ms", lambda v, r: r is not None and r <= 0.75, "÷ ≤ 0.75"),
    ("dashboard p95 ms", "dashboard", "p95_ms", None, ""),
    ("dashboard req/s", "dashboard", "rps", lambda v, r: r is not None and r >= 1.5, "÷ ≥ 1.5"),
    ("gateway CPU ms / dashboard", "dashboard", "cpu_ms_per_query", lambda v, r: v <= 8, "≤ 8 ms"),
    ("trivial p50 ms", "trivial", "p50_ms", None, ""),
    ("trivial req/s", "trivial", "rps", lambda v, r: r is not None and r >= 1.0, "÷ ≥ 1.0"),
    ("gateway CPU ms / trivial", "trivial", "cpu_ms_per_query", None, ""),
    ("backend calls / dashboard", "dashboard", "calls_per_query", None, "lower bound"),
    ("errors in the dashboard load", "dashboard", "errors", None, ""),
    ("peak RSS MB per worker", None, "peak_rss_mb", lambda v, r: v <= 150, "≤ 150 MB"),
]


def _get(arm: dict[str, Any] | None, scenario: str | None, metric: str) -> float | None:
    if arm is None:
        return None
    value = arm.get(metric) if scenario is None else arm.get(scenario, {}).get(metric)
    return value if isinstance(value, int | float) else None


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def _onedoor(results: dict[str, Any]) -> list[str]:
    lines = [
        f"Centre latency {results['latency_ms']} ms per call; one client for latency; "
        f"{results.get('concurrency', '')} concurrent clients for throughput; "
        f"all workers = {results.get('workers_all', '?')}.",
        "",
        "| scenario | backend calls / query | p50 ms | p95 ms | p99 ms | lower bound ms | p50 ÷ bound "
        "| p50 ÷ measured floor | req/s 1 worker | req/s all workers | CPU ms/query 1 worker "
        "| CPU ms/query all workers |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, row in results["scenarios"].items():
        lines.append(
            f"| {name} | {row['calls_per_query']} | {row['p50_ms']} | {row['p95_ms']} | {row['p99_ms']} "
            f"| {row['lower_bound_ms']} | {_fmt(row['ratio'])} | {_fmt(row.get('ratio_measured'))} "
            f"| {row['rps_1w']} | {row['rps_all']} | {_fmt(row.get('cpu_ms_1w'))} "
            f"| {_fmt(row.get('cpu_ms_all'))} |")
    lines.append("")
    if "direct_call_ms" in results:
        lines.append(f"Measured floor: one call straight to a centre (no gateway) takes "
                     f"{results['direct_call_ms']} ms p50 at the set latency; the floor is "
                     f"levels × that.")
    lines.append(f"Peak RSS per worker: {results['peak_rss_mb_1w']} MB (1 worker), "
                 f"{results['peak_rss_mb_all']} MB (all workers).")
    if "long_run" in results:
        lr = results["long_run"]
        lines.append(f"Long run: {lr['requests']} requests, RSS {lr['rss_after_warmup_mb']} MB after "
                     f"warm-up → {lr['rss_end_mb']} MB at the end ({lr['growth_mb']:+} MB).")
    return lines


def _peer(results: dict[str, Any]) -> list[str]:
    peer = results.get("peer", {})
    if "skipped" in peer:
        return [f"Peer arm (Hive Gateway) skipped: {peer['skipped']}."]
    arms = results["arms"]
    one, every, hive = arms["onedoor"], arms["onedoor-all"], arms.get("hive")
    extra = [a for a in arms if a not in ("onedoor", "onedoor-all", "hive")]
    head = (f"| metric | OneDoor 1 worker | OneDoor {results.get('workers_all', 'all')} workers "
            f"| Hive Gateway "
            + "".join(f"| {a} " for a in extra) + "| OneDoor ÷ Hive | target | met |")
    lines = [f"Side by side, medians of {results['rounds']} interleaved rounds (each arm started "
             f"fresh per round, one process unless said; same centres, same load generator):", "",
             head, "|---" * (7 + len(extra)) + "|"]
    for label, scenario, metric, check, target in _SIDE_BY_SIDE:
        a, b = _get(one, scenario, metric), _get(hive, scenario, metric)
        ratio = round(a / b, 2) if a is not None and b else None
        met = "" if check is None or a is None else ("yes" if check(a, ratio) else "no")
        cells = [_fmt(a), _fmt(_get(every, scenario, metric)), _fmt(b),
                 *(_fmt(_get(arms[x], scenario, metric)) for x in extra), _fmt(ratio), target, met]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    floor = results.get("direct_call_ms")
    p50 = _get(one, "dashboard", "p50_ms")
    if floor and p50:
        ok = "yes" if p50 <= 1.5 * floor else "no"
        lines.append(f"| dashboard p50 ÷ measured floor | {p50 / floor:.2f} | | | "
                     + "| " * len(extra) + f"| ≤ 1.5 | {ok} |")
    lines += ["", "What differs: Hive Gateway does no masking, jurisdiction or audit, verifies no JWT "
              "(hive-jwt: RS256 against the identity provider's JWKS) and serves four centres "
              "(its OpenAPI loader cannot read PETITIONS' XML); OneDoor does all of that for five."]
    return lines


def _machine(results: dict[str, Any]) -> list[str]:
    machine = results.get("machine", {})
    busy = [r["scenarios"]["dashboard"].get("machine_busy_pct") for r in results.get("raw", [])]
    busy_text = ""
    if busy and all(b is not None for b in busy):
        busy_text = f"; whole machine busy {min(busy):g}–{max(busy):g} % during the dashboard loads"
    return [f"Machine: {machine.get('cores', '?')} cores; load average "
            f"{' '.join(map(str, machine.get('load_at_start', [])))} at start, "
            f"{' '.join(map(str, machine.get('load_at_end', [])))} at the end{busy_text}. "
            f"Run {results.get('when', '')}."]


def table(results: dict[str, Any]) -> str:
    lines = _onedoor(results)
    if "arms" in results:
        lines += ["", *_peer(results), "", *_machine(results)]
    return "\n".join(lines) + "\n"
