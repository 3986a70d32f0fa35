"""Scoring one gate run over one scenario: what it let through, when, and what it missed.

Frame ``k`` covers ``[k*20 ms, (k+1)*20 ms)``. A run of the gate gives, for every input frame,
whether it passed and the frame index at which it left the gate (held frames leave later).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

FRAME_S = 0.02
FALSE_BARGE_IN_FRAMES = 10  # an echo-only stretch of >= 200 ms let through
ECHO_REACH_S = 0.3  # the bot's audio may come back this long after it was played (>= max delay)
# Around labelled caller speech the input is not echo-only: a little before the onset (pre-roll)
# and after it (the gate's close_ms hold-over), so those frames never count as false barge-ins.
LABEL_MARGIN_BEFORE_S, LABEL_MARGIN_AFTER_S = 0.2, 0.6


@dataclass
class GateRun:
    passed: np.ndarray  # bool per input frame
    released_at: np.ndarray  # frame index at which each input frame left the gate
    openings: int
    flutter: int  # closed <-> open changes
    cost_s: list[float] = field(default_factory=list)


@dataclass
class ScenarioScore:
    false_barge_ins: int
    barge_ins: int
    caught: int
    catch_latency_s: list[float]
    flutter: int
    bot_turns: int


def far_active_frames(far: np.ndarray, floor: float = 200.0) -> np.ndarray:
    """Per frame: the bot's audio was audible (RMS above ~-44 dBFS)."""
    n = far.size // 160
    frames = far[: n * 160].astype(np.float64).reshape(n, 160)
    return np.sqrt(np.mean(frames**2, axis=1)) > floor


def score(
    run: GateRun,
    far_active: np.ndarray,
    speech: list[tuple[float, float]],
    bot_turns: int,
    echo_reach_s: float = ECHO_REACH_S,
) -> ScenarioScore:
    """``echo_reach_s``: how long after the bot's audio its echo can still be on the input
    (a scenario's ``meta.echo_reach_s``: long delays and room tails reach further)."""
    n = run.passed.size
    reach = round(max(ECHO_REACH_S, echo_reach_s) / FRAME_S)
    # Echo can be on the input for `reach` frames after any audible bot frame.
    echo_possible = np.convolve(far_active[:n].astype(int), np.ones(reach + 1, dtype=int))[:n] > 0
    caller = np.zeros(n, dtype=bool)
    for start, end in speech:
        lo = max(0, int((start - LABEL_MARGIN_BEFORE_S) / FRAME_S))
        caller[lo : int(np.ceil((end + LABEL_MARGIN_AFTER_S) / FRAME_S))] = True
    leaked = run.passed & echo_possible & ~caller
    false_barge_ins = sum(1 for length in _runs(leaked) if length >= FALSE_BARGE_IN_FRAMES)

    caught, latencies = 0, []
    for start, end in speech:
        frames = np.arange(int(start / FRAME_S), min(n, int(np.ceil(end / FRAME_S))))
        passed = frames[run.passed[frames]]
        if passed.size:
            caught += 1
            first_out_s = (int(run.released_at[passed].min()) + 1) * FRAME_S
            latencies.append(max(0.0, first_out_s - start))
    return ScenarioScore(false_barge_ins, len(speech), caught, latencies, run.flutter, bot_turns)


def _runs(mask: np.ndarray) -> list[int]:
    lengths, current = [], 0
    for value in mask:
        if value:
            current += 1
        elif current:
            lengths.append(current)
            current = 0
    if current:
        lengths.append(current)
    return lengths


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return float(np.percentile(np.asarray(values), q * 100, method="higher"))


def summarise(scores: list[ScenarioScore], costs: list[float]) -> dict:
    barge_ins = sum(s.barge_ins for s in scores)
    latencies = [lat for s in scores for lat in s.catch_latency_s]
    turns = sum(s.bot_turns for s in scores)
    caught = sum(s.caught for s in scores)
    costs_ms = np.asarray(costs) * 1000 if costs else np.zeros(1)
    return {
        "false_barge_ins": sum(s.false_barge_ins for s in scores),
        "barge_in_recall": round(caught / barge_ins, 4) if barge_ins else None,
        "barge_ins_caught": caught,
        "catch_latency_median_s": _round(percentile(latencies, 0.5)),
        "catch_latency_p95_s": _round(percentile(latencies, 0.95)),
        "flutter_per_bot_turn": round(sum(s.flutter for s in scores) / turns, 3) if turns else None,
        "frame_cost_mean_ms": round(float(costs_ms.mean()), 4),
        "frame_cost_p95_ms": round(float(np.percentile(costs_ms, 95)), 4),
        "frame_cost_max_ms": round(float(costs_ms.max()), 4),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
