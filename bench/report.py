"""Markdown tables from overhead results: medians over rounds with (min–max), added latency vs direct."""

from __future__ import annotations

import math
import statistics
from typing import Any

Rows = dict[str, list[dict[str, Any]]]


def _values(rows: list[dict[str, Any]], key: str) -> list[float]:
    return [r[key] for r in rows if isinstance(r.get(key), int | float) and not math.isnan(r[key])]


def cell(rows: list[dict[str, Any]], key: str, fmt: str = "{:.2f}") -> str:
    values = _values(rows, key)
    if not values:
        return "—"
    med = statistics.median(values)
    if len(values) == 1:
        return fmt.format(med)
    return f"{fmt.format(med)} ({fmt.format(min(values))}–{fmt.format(max(values))})"


def added(results: Rows, name: str, key: str) -> str:
    """Median over rounds of (path - direct), paired by round."""
    direct = {r["round"]: r.get(key) for r in results.get("direct", [])}
    diffs = [
        r[key] - direct[r["round"]]
        for r in results[name]
        if r.get(key) is not None and direct.get(r["round"])
    ]
    return f"{statistics.median(diffs):+.3f}" if diffs else "—"


def tables(results: Rows) -> str:
    lines = [
        "### Closed loop (wrk -t1 -c64, non-streaming) and fixed rate (200 req/s, 16 connections; ms)",
        "",
        "| path | req/s | ×direct | proxy CPU µs/req | p50 | p99 | added p50 | added p99 | p99 CO-corrected | errors |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    direct_rps = statistics.median(_values(results.get("direct", []), "rps") or [math.nan])
    for name, rows in results.items():
        if any("error" in r for r in rows):
            lines.append(f"| {name} | failed: {next(r['error'] for r in rows if 'error' in r)} |||||||||")
            continue
        rps = statistics.median(_values(rows, "rps"))
        errors = sum(
            int(r.get("lat_errors", 0)) + int(r.get("c1_errors", 0)) + int(r.get("c32_errors", 0))
            for r in rows
        )
        lines.append(
            f"| {name} | {cell(rows, 'rps', '{:.0f}')} | {rps / direct_rps:.2f} | {cell(rows, 'cpu_us', '{:.0f}')} "
            f"| {cell(rows, 'lat_p50', '{:.3f}')} | {cell(rows, 'lat_p99', '{:.3f}')} "
            f"| {added(results, name, 'lat_p50') if name != 'direct' else '—'} "
            f"| {added(results, name, 'lat_p99') if name != 'direct' else '—'} "
            f"| {cell(rows, 'lat_p99_corrected', '{:.3f}')} | {errors} |"
        )
    lines += [
        "",
        "### Streaming (50 chunks 5 ms apart + [DONE]; ms)",
        "",
        "| path | c1 TTFT p50 | added | c1 total p50 | c32 TTFT p50 | added | c32 TTFT p99 | c32 total p50 | total vs direct |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    direct_total = statistics.median(_values(results.get("direct", []), "c32_total_p50") or [math.nan])
    for name, rows in results.items():
        if any("error" in r for r in rows):
            continue
        total = statistics.median(_values(rows, "c32_total_p50") or [math.nan])
        lines.append(
            f"| {name} | {cell(rows, 'c1_ttft_p50', '{:.2f}')} | {added(results, name, 'c1_ttft_p50') if name != 'direct' else '—'} "
            f"| {cell(rows, 'c1_total_p50', '{:.1f}')} | {cell(rows, 'c32_ttft_p50', '{:.2f}')} "
            f"| {added(results, name, 'c32_ttft_p50') if name != 'direct' else '—'} | {cell(rows, 'c32_ttft_p99', '{:.2f}')} "
            f"| {cell(rows, 'c32_total_p50', '{:.1f}')} | {(total / direct_total - 1) * 100:+.1f}% |"
        )
    return "\n".join(lines)
