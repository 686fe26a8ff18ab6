"""Plot bench/results/batching.json as one SVG (no plotting library needed): for each model, throughput and
p99 latency by concurrency, direct vs through Inferlane.

    python -m bench.batching_plot [results.json] [out.svg]
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results" / "batching.json"
OUT = Path(__file__).resolve().parent / "results" / "batching.svg"
COLOURS = {"direct": "#9aa5b1", "inferlane": "#2f6fdf"}
PANEL_W, PANEL_H, PAD = 300, 190, 46


def _median(rounds: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(r[key] for r in rounds))


def _bars(x0: float, y0: float, title: str, groups: list[tuple[str, float, float]], unit: str) -> list[str]:
    """A grouped bar chart: one group per concurrency, direct and Inferlane side by side."""
    top = max(max(d, b) for _, d, b in groups) * 1.15 or 1.0
    out = [
        f'<text x="{x0 + PANEL_W / 2}" y="{y0 - 8}" text-anchor="middle" font-weight="bold">{title}</text>'
    ]
    out.append(f'<line x1="{x0}" y1="{y0 + PANEL_H}" x2="{x0 + PANEL_W}" y2="{y0 + PANEL_H}" stroke="#333"/>')
    width = PANEL_W / len(groups)
    for i, (label, direct, batched) in enumerate(groups):
        gx = x0 + i * width
        for j, (name, value) in enumerate((("direct", direct), ("inferlane", batched))):
            h = PANEL_H * value / top
            x = gx + width * (0.15 + 0.35 * j)
            out.append(
                f'<rect x="{x:.1f}" y="{y0 + PANEL_H - h:.1f}" width="{width * 0.33:.1f}" height="{h:.1f}" '
                f'fill="{COLOURS[name]}"/>'
            )
            out.append(
                f'<text x="{x + width * 0.165:.1f}" y="{y0 + PANEL_H - h - 3:.1f}" text-anchor="middle" '
                f'font-size="10">{value:.0f}</text>'
            )
        out.append(
            f'<text x="{gx + width / 2:.1f}" y="{y0 + PANEL_H + 14}" text-anchor="middle">c={label}</text>'
        )
    out.append(f'<text x="{x0 - 6}" y="{y0 + 10}" text-anchor="end" font-size="10">{unit}</text>')
    return out


def render(data: dict[str, Any]) -> str:
    results = data["results"]
    names = list(results)
    width = 2 * (PANEL_W + PAD) + PAD
    height = len(names) * (PANEL_H + 2 * PAD) + 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        'font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<rect x="{PAD}" y="8" width="12" height="12" fill="{COLOURS["direct"]}"/>'
        f'<text x="{PAD + 16}" y="18">direct</text>'
        f'<rect x="{PAD + 70}" y="8" width="12" height="12" fill="{COLOURS["inferlane"]}"/>'
        f'<text x="{PAD + 86}" y="18">through Inferlane, batching on</text>',
    ]
    for row, name in enumerate(names):
        levels = results[name]["levels"]
        y0 = 40 + PAD + row * (PANEL_H + 2 * PAD)
        rps = [(c, _median(v["direct"], "rps"), _median(v["inferlane"], "rps")) for c, v in levels.items()]
        p99 = [
            (c, _median(v["direct"], "p99_ms"), _median(v["inferlane"], "p99_ms")) for c, v in levels.items()
        ]
        parts += _bars(PAD, y0, f"{name}: throughput (req/s, higher is better)", rps, "req/s")
        parts += _bars(2 * PAD + PANEL_W, y0, f"{name}: p99 latency (ms, lower is better)", p99, "ms")
    parts.append("</svg>")
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    source = Path(args[0]) if args else RESULTS
    target = Path(args[1]) if len(args) > 1 else OUT
    target.write_text(render(json.loads(source.read_text())))
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
