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


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m bench.echo_summary REPORT.json")
    print("\n".join(rows(json.loads(Path(sys.argv[1]).read_text()))))
