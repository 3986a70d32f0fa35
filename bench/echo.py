"""Echo-gate quality benchmark over a labelled scenario set (see ``sim/echo``).

Runs the gate's own state machine (``processors.echo.state.GateCore``, the code the pipeline
runs) frame by frame over every scenario, for ``reference``, ``mute_while_speaking`` and no gate,
and prints one JSON document with the metrics side by side. Per-frame cost is measured
in-process around each 20 ms decision.

    python -m bench.echo DIR [--preset balanced]    # DIR: a set built by `python -m sim.echo`
    python -m bench.echo --build [--count 48 --late-echo 24 --per-family 16 --seed 7]
                                 [--family NAME ...]         # build the set, run
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench import echo_peer
from bench.echo_metrics import GateRun, far_active_frames, score, summarise
from bot.config.echo import ECHO_PRESETS, EchoMode, EchoThresholds
from processors.echo.detector import FRAME
from processors.echo.state import GateCore
from sim.echo.families import FAMILIES, FAMILY_COUNT
from sim.echo.scenarios import LATE_ECHO_COUNT, Scenario, build_scenarios, load_scenarios

MODES: dict[str, EchoMode] = {
    "reference": "reference",
    "mute_while_speaking": "mute_while_speaking",
    "no_gate": "off",
}
# The acceptance bounds for `reference` on the project's set.
MUST_HOLD = {"false_barge_ins": 0, "barge_in_recall": 0.95, "catch_latency_p95_s": 0.3}
QUIET_RECALL = 0.90  # quiet_barge: the caller 10-18 dB below the echo
MAX_FLUTTER = 2.0  # gate state changes per bot turn
FRAME_COST_BUDGET_MS = {"mean": 0.08, "p95": 0.32}  # half of the cost before issue 18


def run_gate(scenario: Scenario, mode: EchoMode, thresholds: EchoThresholds) -> GateRun:
    core: GateCore[int] = GateCore(mode, thresholds)
    far = scenario.far.astype(np.float32)
    near = scenario.near.astype(np.float32)
    frames = near.size // FRAME
    active = far_active_frames(scenario.far)
    passed = np.zeros(frames, dtype=bool)
    released_at = np.zeros(frames, dtype=np.int64)
    last_audio_end = -(10**9)
    costs = []
    for k in range(frames):
        lo, hi = k * FRAME, (k + 1) * FRAME
        if active[k]:
            last_audio_end = hi
        started = time.perf_counter()
        audible = hi < last_audio_end + core.tail_samples()
        out = core.process(k, near[lo:hi], far[lo:hi], bot_audible=audible)
        costs.append(time.perf_counter() - started)
        for item, ok in out:
            passed[item], released_at[item] = ok, k
    for item, ok in core.flush():
        passed[item], released_at[item] = ok, frames - 1
    flutter = core.counters.openings + core.counters.closings
    return GateRun(passed, released_at, core.counters.openings, flutter, costs)


def _must_hold(family: str, ref: dict) -> dict:
    """The issue's bounds for ``reference`` on one family (or all of them)."""
    recall = MUST_HOLD["barge_in_recall"] if family != "quiet_barge" else QUIET_RECALL
    p95 = ref["catch_latency_p95_s"]
    flutter = ref["flutter_per_bot_turn"]
    return {
        "false_barge_ins": ref["false_barge_ins"] <= MUST_HOLD["false_barge_ins"],
        "barge_in_recall": ref["barge_in_recall"] is None or ref["barge_in_recall"] >= recall,
        "catch_latency_p95_s": p95 is None or p95 <= MUST_HOLD["catch_latency_p95_s"],
        "flutter_per_bot_turn": flutter is None or flutter <= MAX_FLUTTER,
    }


def run(scenarios: list[Scenario], thresholds: EchoThresholds, peer: bool = True) -> dict:
    """Every mode (and the peer, where it can run) over every scenario; totals, then the
    same figures per scenario family."""
    report: dict = {"scenarios": len(scenarios), "barge_ins": sum(len(s.speech) for s in scenarios)}
    modes: dict[str, EchoMode | None] = dict(MODES)
    reason = echo_peer.unavailable() if peer else "not asked for (--no-peer)"
    if reason is None:
        modes[echo_peer.PEER_NAME] = None
    report["peer"] = {"name": echo_peer.PEER_NAME, "ran": reason is None, "reason": reason}
    failures: list[str] = []
    by_family: dict[str, dict[str, tuple[list, list]]] = {}
    for label, mode in modes.items():
        scores, costs = [], []
        for scenario in scenarios:
            if mode is None:
                gate_run = echo_peer.run_peer(scenario.far, scenario.near)
            else:
                gate_run = run_gate(scenario, mode, thresholds)
            turns = len(scenario.meta.get("bot_turns", [])) or 1
            reach = scenario.meta.get("echo_reach_s", 0.0)
            active = far_active_frames(scenario.far)
            result = score(gate_run, active, scenario.speech, turns, reach)
            scores.append(result)
            costs += gate_run.cost_s
            family = scenario.meta.get("family", "main")
            fam = by_family.setdefault(family, {}).setdefault(label, ([], []))
            fam[0].append(result)
            fam[1].extend(gate_run.cost_s)
            if mode == "reference" and (result.false_barge_ins or result.caught < result.barge_ins):
                failures.append(
                    f"{scenario.name}: {result.false_barge_ins} false, "
                    f"{result.barge_ins - result.caught} missed {scenario.meta}"
                )
        report[label] = summarise(scores, costs)
    ref = report["reference"]
    report["reference_failures"] = failures
    report["by_family"] = {
        family: {
            label: {"scenarios": len(s), **summarise(s, c)} for label, (s, c) in labels.items()
        }
        for family, labels in sorted(by_family.items())
    }
    report["must_hold"] = {
        "all": _must_hold("all", ref),
        **{f: _must_hold(f, v["reference"]) for f, v in report["by_family"].items()},
        "frame_cost_mean_ms": ref["frame_cost_mean_ms"],
        "frame_cost_p95_ms": ref["frame_cost_p95_ms"],
        "frame_cost_budget_ms": FRAME_COST_BUDGET_MS,
    }
    return report


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", nargs="?", help="scenario directory (python -m sim.echo DIR)")
    parser.add_argument("--build", action="store_true", help="build the project's set first")
    parser.add_argument("--count", type=int, default=48)
    parser.add_argument("--late-echo", type=int, default=LATE_ECHO_COUNT, help="late-echo family")
    parser.add_argument("--per-family", type=int, default=FAMILY_COUNT, help="of each family")
    parser.add_argument("--family", action="append", choices=sorted(FAMILIES), help="only these")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--preset", default="balanced", choices=sorted(ECHO_PRESETS))
    parser.add_argument("--no-peer", action="store_true", help="skip the WebRTC AEC3 + Silero peer")
    parser.add_argument("--out", help="also write the JSON report here")
    args = parser.parse_args(argv)
    thresholds = ECHO_PRESETS[args.preset]
    if args.build or not args.dir:
        with tempfile.TemporaryDirectory() as tmp:
            target = args.dir or tmp
            families = tuple(args.family) if args.family else None
            build_scenarios(
                target, args.count, args.seed, args.late_echo, args.per_family, families
            )
            scenarios = load_scenarios(target)
    else:
        scenarios = load_scenarios(args.dir)
    report = {
        "bench": "echo",
        "preset": args.preset,
        "seed": args.seed,
        **run(scenarios, thresholds, peer=not args.no_peer),
    }
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    return report


if __name__ == "__main__":
    try:
        result = main()
    except ValueError as exc:
        sys.exit(f"bench.echo: {exc}")
    print(json.dumps(result, indent=1))
