"""One line per scenario family and mode from a `bench.echo --out` report:

python -m bench.echo_summary REPORT.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

MODE_ORDER = ("reference", "webrtc_aec3_silero", "mute_while_speaking", "no_gate")


def rows(report: dict) -> list[str]:
    out = [
        f"seed {report.get('seed')}: {report['scenarios']} scenarios, peer "
        f"{'ran' if report['peer']['ran'] else 'skipped: ' + str(report['peer']['reason'])}",
        f"{'family':14} {'mode':20} {'false':>5} {'missed':>6} {'recall':>7} {'p95 s':>6} "
        f"{'flutter':>7} {'ms/frame':>8}",
    ]
    for family, modes in report["by_family"].items():
        for mode in MODE_ORDER:
            if mode not in modes:
                continue
            m = modes[mode]
            caught = m["barge_ins_caught"]
            recall = m["barge_in_recall"]
            total = round(caught / recall) if recall else 0
            missed = total - caught
            out.append(
                f"{family:14} {mode:20} {m['false_barge_ins']:>5} {missed:>6} "
                f"{'-' if recall is None else f'{recall:.1%}':>7} "
                f"{m['catch_latency_p95_s'] if m['catch_latency_p95_s'] is not None else '-':>6} "
                f"{m['flutter_per_bot_turn']:>7} {m['frame_cost_mean_ms']:>8}"
            )
    checks = report["must_hold"].items()
    failed = {k: v for k, v in checks if isinstance(v, dict) and not all(v.values())}
    out.append("must hold: " + ("all met" if not failed else f"NOT MET {failed}"))
    return out


def markdown(reports: list[dict]) -> str:
    """One table per family, every mode, the seeds side by side (docs/echo_gate.md)."""
    seeds = [r.get("seed") for r in reports]
    out = []
    for family in reports[0]["by_family"]:
        n = reports[0]["by_family"][family]["reference"]["scenarios"]
        out += [
            f"**{family}** ({n} scenarios per seed; seeds {' / '.join(map(str, seeds))})",
            "",
            "| | false barge-ins | missed barge-ins | recall | catch p95 | flutter per turn |",
            "|---|---|---|---|---|---|",
        ]
        for mode in MODE_ORDER:
            if mode not in reports[0]["by_family"][family]:
                continue
            ms = [r["by_family"][family][mode] for r in reports]

            def cell(key, ms=ms) -> str:
                return " / ".join("–" if m[key] is None else str(m[key]) for m in ms)

            missed = " / ".join(str(missed_barge_ins(m)) for m in ms)
            recall = " / ".join(
                "–" if m["barge_in_recall"] is None else f"{m['barge_in_recall']:.0%}" for m in ms
            )
            p95 = " / ".join(
                "–" if m["catch_latency_p95_s"] is None else f"{m['catch_latency_p95_s']:.2f} s"
                for m in ms
            )
            out.append(
                f"| {LABELS[mode]} | {cell('false_barge_ins')} | {missed} | {recall} | {p95} | "
                f"{cell('flutter_per_bot_turn')} |"
            )
        out.append("")
    return "\n".join(out)


def missed_barge_ins(m: dict) -> int:
    recall = m["barge_in_recall"]
    return round(m["barge_ins_caught"] / recall) - m["barge_ins_caught"] if recall else 0


LABELS = {
    "reference": "ours (reference)",
    "webrtc_aec3_silero": "WebRTC AEC3 + Silero VAD",
    "mute_while_speaking": "mute while speaking",
    "no_gate": "no gate",
}


if __name__ == "__main__":
    args = sys.argv[1:]
    as_markdown = bool(args) and args[0] == "--markdown"
    paths = args[1:] if as_markdown else args
    if not paths or (not as_markdown and len(paths) != 1):
        sys.exit("usage: python -m bench.echo_summary [--markdown] REPORT.json [REPORT.json ...]")
    reports = [json.loads(Path(p).read_text()) for p in paths]
    print(markdown(reports) if as_markdown else "\n".join(rows(reports[0])))
