"""BENCHMARKS.md tables from `python -m bench.load --out rows.json` files, and a latency-vs-load
chart when matplotlib is installed (it is optional: without it only the tables print).

    python -m bench.report dense.json spread.json [--png latency.png]

Each input is the JSON list `--out` writes (or the JSON lines bench.load prints). One table
per load shape: a row per level, for each bot p50/p95 turn latency, unanswered turns, gaps
heard over 40 ms (calls with one), CPU per live call, the busiest 2 s and the same-run ratios.
"""

import argparse
import json
from pathlib import Path

BOT_ORDER = ("ours-fast", "ours", "ours-full", "asterisk", "baseline")


def load_rows(paths: list[str]) -> list[dict]:
    rows: list[dict] = []
    for path in paths:
        text = Path(path).read_text().strip()
        if text.startswith("["):
            rows += json.loads(text)
        else:
            rows += [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    return [r for r in rows if "calls" in r]


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value * 1000:.0f}"


def table(rows: list[dict], shape: str) -> str:
    """One line per level and bot, bots in a fixed order, ratios from the same run."""
    order = {b: i for i, b in enumerate(BOT_ORDER)}
    rows = sorted(rows, key=lambda r: (r["calls"], order.get(r["bot"], len(order)), r["bot"]))
    lines = [
        f"**{shape}**",
        "",
        "| calls | bot | p50 ms | p95 ms | unanswered | gaps >40 ms (calls) | gap s | "
        "CPU %/call | busiest 2 s % | p95 vs baseline | CPU vs baseline | CPU vs full |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        profile = Path(str(r.get("profile") or "default")).stem
        label = r["bot"] if profile in ("default", "baseline") else f"{r['bot']} [{profile}]"
        gaps = f"{r.get('gaps_heard_over_40ms', '–')} ({r.get('calls_with_heard_gaps', '–')})"
        cells = [
            r["calls"],
            label,
            _ms(r.get("turn_latency_p50_s")),
            _ms(r.get("turn_latency_p95_s")),
            r["unanswered_turns"],
            gaps,
            r.get("gap_total_s", "–"),
            r.get("cpu_pct_core_per_call", "–"),
            r.get("bot_cpu_peak_2s_pct", "–"),
            r.get("turn_latency_p95_s_vs_baseline", "–"),
            r.get("cpu_s_per_call_minute_vs_baseline", "–"),
            r.get("cpu_s_per_call_minute_vs_full", "–"),
        ]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


def chart(rows: list[dict], path: str) -> bool:
    """p95 turn latency against concurrent calls, one line per bot and shape; False (and
    nothing written) without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(7, 4))
    for bot, shape in sorted({(r["bot"], r.get("shape", "spread")) for r in rows}):
        points = sorted(
            (r["calls"], r["turn_latency_p95_s"])
            for r in rows
            if r["bot"] == bot and r.get("shape", "spread") == shape and r["turn_latency_p95_s"]
        )
        if points:
            ax.plot(*zip(*points, strict=True), marker="o", label=f"{bot} ({shape})")
    ax.set_xlabel("concurrent calls (bot on one core)")
    ax.set_ylabel("p95 turn latency (s)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", nargs="+", help="bench.load --out files (or its JSON lines)")
    parser.add_argument("--png", help="also draw p95 latency vs load here (needs matplotlib)")
    args = parser.parse_args(argv)
    rows = load_rows(args.rows)
    for shape in sorted({r.get("shape", "spread") for r in rows}):
        print(table([r for r in rows if r.get("shape", "spread") == shape], shape), end="\n\n")
    if args.png and not chart(rows, args.png):
        print(f"(no {args.png}: matplotlib is not installed)")


if __name__ == "__main__":
    main()
