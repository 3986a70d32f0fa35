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

import numpy as np

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
FRAME_COST_BUDGET_MS = 0.2


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


def run(scenarios: list[Scenario], thresholds: EchoThresholds) -> dict:
    report: dict = {"scenarios": len(scenarios), "barge_ins": sum(len(s.speech) for s in scenarios)}
    failures: dict[str, list[str]] = {}
    by_family: dict[str, list] = {}
    for label, mode in MODES.items():
        scores, costs = [], []
        for scenario in scenarios:
            gate_run = run_gate(scenario, mode, thresholds)
            turns = len(scenario.meta.get("bot_turns", [])) or 1
            reach = scenario.meta.get("echo_reach_s", 0.0)
            active = far_active_frames(scenario.far)
            result = score(gate_run, active, scenario.speech, turns, reach)
            scores.append(result)
            costs += gate_run.cost_s
            if mode == "reference":
                family = scenario.meta.get("family", "main")
                by_family.setdefault(family, [[], []])[0].append(result)
                by_family[family][1].extend(gate_run.cost_s)
            if mode == "reference" and (result.false_barge_ins or result.caught < result.barge_ins):
                failures.setdefault(label, []).append(
                    f"{scenario.name}: {result.false_barge_ins} false, "
                    f"{result.barge_ins - result.caught} missed {scenario.meta}"
                )
        report[label] = summarise(scores, costs)
    ref = report["reference"]
    p95 = ref["catch_latency_p95_s"]
    report["must_hold"] = {
        "false_barge_ins": ref["false_barge_ins"] <= MUST_HOLD["false_barge_ins"],
        "barge_in_recall": (ref["barge_in_recall"] or 0) >= MUST_HOLD["barge_in_recall"],
        "catch_latency_p95_s": p95 is not None and p95 <= MUST_HOLD["catch_latency_p95_s"],
        "frame_cost_mean_ms_reported": ref["frame_cost_mean_ms"],
        "frame_cost_budget_ms": FRAME_COST_BUDGET_MS,
    }
    report["reference_failures"] = failures.get("reference", [])
    # Scenario families (sim/echo): "main" and "late_echo", each scored on its own.
    report["reference_by_family"] = {
        family: {"scenarios": len(s), **summarise(s, c)} for family, (s, c) in by_family.items()
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
    report = {"bench": "echo", "preset": args.preset, **run(scenarios, thresholds)}
    return report


if __name__ == "__main__":
    try:
        result = main()
    except ValueError as exc:
        sys.exit(f"bench.echo: {exc}")
    print(json.dumps(result, indent=1))
