"""Verdicts per scenario family, drawn from `bench.echo --out` reports (one per seed):

    python -m bench.echo_plot OUT.png REPORT.json [REPORT.json ...]

For each family, false barge-ins and missed barge-ins (summed over the seeds) of our gate,
the peer (WebRTC AEC3 + Silero VAD), mute_while_speaking and no gate. Needs matplotlib (the
``bench`` dependency group).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bench.echo_summary import LABELS, MODE_ORDER, missed_barge_ins


def plot(out: str, reports: list[dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    families = list(reports[0]["by_family"])
    modes = [m for m in MODE_ORDER if m in reports[0]["by_family"][families[0]]]
    fig, axes = plt.subplots(2, 1, figsize=(12, 7), sharex=True)
    x = np.arange(len(families))
    width = 0.8 / len(modes)
    for i, mode in enumerate(modes):
        false = [sum(r["by_family"][f][mode]["false_barge_ins"] for r in reports) for f in families]
        missed = [sum(missed_barge_ins(r["by_family"][f][mode]) for r in reports) for f in families]
        axes[0].bar(x + i * width, false, width, label=LABELS.get(mode, mode))
        axes[1].bar(x + i * width, missed, width, label=LABELS.get(mode, mode))
    seeds = ", ".join(str(r.get("seed")) for r in reports)
    axes[0].set_ylabel("false barge-ins")
    axes[0].set_yscale("symlog")
    axes[1].set_ylabel("missed barge-ins")
    axes[0].set_title(f"Echo bench per scenario family (make bench-echo, seeds {seeds})")
    axes[1].set_xticks(x + width * (len(modes) - 1) / 2, families, rotation=30, ha="right")
    axes[0].legend(ncol=len(modes), fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=90)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: python -m bench.echo_plot OUT.png REPORT.json [REPORT.json ...]")
    plot(sys.argv[1], [json.loads(Path(p).read_text()) for p in sys.argv[2:]])
